"""HS256 signing of access tokens, through PyJWT, without re-vetting the same secret every time.

Why: ``jwt.encode`` checks on every call that an HMAC secret is not an asymmetric key in disguise
(it tries to parse it as PEM, SSH, DER and JWK). That is right for keys from untrusted input, but
a project's secrets come from Conclave itself and the answer for one secret never changes. The
check was about half the cost of signing a token: 39 µs with it, 18 µs without. ``PyJWS`` lets an
application register its own algorithm object, so this one remembers each vetted secret. The tokens are
byte-for-byte those of ``jwt.encode`` (``tests/access/test_signing.py``).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jwt
from jwt.algorithms import HMACAlgorithm


class _VettedHMAC(HMACAlgorithm):
    @functools.lru_cache(maxsize=1024)  # noqa: B019 -- one instance, living as long as the process
    def prepare_key(self, key: str | bytes) -> bytes:
        return super().prepare_key(key)


_JWS = jwt.PyJWS(algorithms=["HS256"])
_JWS.unregister_algorithm("HS256")
_JWS.register_algorithm("HS256", _VettedHMAC(HMACAlgorithm.SHA256))


def sign_hs256(claims: dict[str, Any], secret: str, *, key_id: str) -> str:
    """The JWT ``jwt.encode(claims, secret, algorithm="HS256", headers={"kid": key_id})`` returns."""
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return _JWS.encode(payload, secret, algorithm="HS256", headers={"kid": key_id})

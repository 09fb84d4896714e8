"""Tokens signed by ``access.signing`` are exactly PyJWT's, and a bad secret is still refused."""

from __future__ import annotations

import jwt
import pytest
from jwt.exceptions import InvalidKeyError

from conclave.access.signing import sign_hs256

CLAIMS = {"u": "Zoë", "role": "attendee", "room_id": "r1", "jti": "j1", "iat": 1, "nbf": 1, "exp": 4102444800}


def test_same_bytes_as_jwt_encode() -> None:
    for secret in ("s" * 43, "another-secret-of-the-same-project-0123"):
        for key_id in ("pk_1", "pk_gEZN6EbzBnTWrzpd"):
            for _ in range(2):  # the second call takes the remembered key and header
                token = sign_hs256(CLAIMS, secret, key_id=key_id)
                assert token == jwt.encode(CLAIMS, secret, algorithm="HS256", headers={"kid": key_id})
                assert jwt.decode(token, secret, algorithms=["HS256"]) == CLAIMS
                assert jwt.get_unverified_header(token) == {"alg": "HS256", "kid": key_id, "typ": "JWT"}


def test_asymmetric_looking_secrets_are_still_refused() -> None:
    with pytest.raises(InvalidKeyError):
        sign_hs256(CLAIMS, "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", key_id="pk_1")

"""Secrets at rest: encryption with the master key, and keyed digests to look secrets up.

A bearer secret must be found without knowing its owner, so each stored secret carries an
HMAC-SHA256 digest keyed by the master key (constant-time lookup by index) next to its
Fernet-encrypted copy (needed to sign access tokens with the project secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

DECRYPTED_CACHE_SIZE = 4096
"""Secrets kept decrypted in memory (oldest dropped first): enough for every live project."""


class SecretBox:
    def __init__(self, master_key: str) -> None:
        root = master_key.encode()
        encryption_key = hmac.new(root, b"conclave/encrypt", hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(encryption_key))
        self._lookup_key = hmac.new(root, b"conclave/lookup", hashlib.sha256).digest()
        self._plaintexts: dict[str, str] = {}

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """Remembers what it decrypted: every token issued or checked reveals the project's secrets.

        A ciphertext always decrypts to the same plaintext under one master key, so the cache can
        never answer wrongly; revoking a secret is a state of its row, checked by the callers.
        """
        plaintext = self._plaintexts.get(ciphertext)
        if plaintext is None:
            try:
                plaintext = self._fernet.decrypt(ciphertext.encode()).decode()
            except InvalidToken as exc:
                raise RuntimeError(
                    "stored secret cannot be decrypted: was CONCLAVE_MASTER_KEY changed?"
                ) from exc
            if len(self._plaintexts) >= DECRYPTED_CACHE_SIZE:
                self._plaintexts.pop(next(iter(self._plaintexts)))
            self._plaintexts[ciphertext] = plaintext
        return plaintext

    def digest(self, secret: str) -> str:
        return hmac.new(self._lookup_key, secret.encode(), hashlib.sha256).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of two strings of any characters.

    ``hmac.compare_digest`` raises ``TypeError`` for ``str`` arguments with non-ASCII characters,
    which a caller controls in query strings and headers; compared as UTF-8 bytes they are simply
    unequal.
    """
    return hmac.compare_digest(given.encode(), expected.encode())

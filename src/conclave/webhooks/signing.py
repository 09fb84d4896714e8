"""Webhook signatures: ``X-Signature = hex(HMAC-SHA256(secret, timestamp + "." + raw body))``.

Signing the timestamp with the body lets a receiver refuse replays of an old request: it checks
the signature, then that ``X-Conclave-Timestamp`` is recent. Receivers need only this module's
logic (see docs/webhooks.md for a copy-paste version).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from conclave.kit.crypto import same_secret

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Conclave-Timestamp"
DELIVERY_HEADER = "X-Conclave-Delivery"
EVENT_HEADER = "X-Conclave-Event"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: int | str,
    body: bytes,
    signature: str,
    *,
    tolerance_seconds: int | None = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when ``signature`` matches and the timestamp is within ``tolerance_seconds`` of now.

    ``tolerance_seconds=None`` skips the freshness check (e.g. to inspect a stored request).
    """
    try:
        sent_at = int(str(timestamp))
    except ValueError:
        return False
    if tolerance_seconds is not None:
        current = time.time() if now is None else now
        if abs(current - sent_at) > tolerance_seconds:
            return False
    expected = sign(secret, str(timestamp).strip(), body)
    return same_secret(signature.strip().lower(), expected)

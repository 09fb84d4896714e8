"""Identifiers and random credentials."""

from __future__ import annotations

import secrets
import uuid


def new_id() -> str:
    return str(uuid.uuid4())


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def new_key_id(prefix: str) -> str:
    """A public key identifier, e.g. ``pk_…``; recognisable in logs, never secret."""
    return f"{prefix}_{secrets.token_urlsafe(12)}"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_app_id() -> str:
    """32 lowercase hex characters, the shape of an Agora App ID."""
    return secrets.token_hex(16)


def new_friendly_url() -> str:
    """A readable, URL-safe room path such as ``kfq-wmzt-pdx``."""
    alphabet = "abcdefghijkmnopqrstuvwxyz"
    parts = ("".join(secrets.choice(alphabet) for _ in range(n)) for n in (3, 4, 3))
    return "-".join(parts)

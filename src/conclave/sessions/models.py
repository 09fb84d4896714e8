"""Session and participant tables: the durable record of live presence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from conclave.kit.db import Base, IdMixin
from conclave.kit.time import utcnow

SESSION_STATUSES = ("live", "ended")
PARTICIPANT_STATUSES = ("waiting", "joined", "disconnected", "left", "denied")


class Session(IdMixin, Base):
    """One live occurrence of a room, from the first admitted join to its end."""

    __tablename__ = "sessions"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(8), default="live")
    media_node: Mapped[str | None] = mapped_column(String(200))
    media_room_key: Mapped[str] = mapped_column(String(64))
    owner_instance: Mapped[str] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    end_reason: Mapped[str | None] = mapped_column(String(32))
    peak_participants: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("status IN ('live', 'ended')", name="status"),
        # At most one live session per room, whatever races between joins on several replicas.
        Index(
            "uq_sessions_live_room",
            "room_id",
            unique=True,
            sqlite_where=text("status = 'live'"),
            postgresql_where=text("status = 'live'"),
        ),
        Index("ix_sessions_project_created", "project_id", "created_at", "id"),
    )


class Participant(IdMixin, Base):
    __tablename__ = "participants"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="joined")
    token_jti: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    resume_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    feed_id: Mapped[int | None] = mapped_column()
    audio_muted: Mapped[bool] = mapped_column(default=False)
    video_muted: Mapped[bool] = mapped_column(default=False)
    hand_raised: Mapped[bool] = mapped_column(default=False, server_default="0")
    joined_at: Mapped[datetime | None] = mapped_column()
    left_at: Mapped[datetime | None] = mapped_column()
    left_reason: Mapped[str | None] = mapped_column(String(32))
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'joined', 'disconnected', 'left', 'denied')", name="status"),
        Index("ix_participants_project_created", "project_id", "created_at", "id"),
    )

    @property
    def present(self) -> bool:
        """Counted in the room: joined, or dropped but still inside the resume grace period."""
        return self.status in ("joined", "disconnected")

    @property
    def duration_seconds(self) -> int | None:
        if self.joined_at is None:
            return None
        end = self.left_at or utcnow()
        return max(0, int((end - self.joined_at).total_seconds()))

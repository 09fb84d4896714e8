"""Polls, their options and votes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from conclave.kit.db import Base, IdMixin
from conclave.kit.time import utcnow

POLL_TYPES = ("single", "multiple", "free")
POLL_STATUSES = ("draft", "launched", "ended")


class Poll(IdMixin, Base):
    __tablename__ = "polls"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    # The session it was launched in; a draft belongs to no session yet.
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16), default="single")
    anonymous: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    launched_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("type IN ('single', 'multiple', 'free')", name="type"),
        CheckConstraint("status IN ('draft', 'launched', 'ended')", name="status"),
        Index("ix_polls_room_created", "room_id", "created_at", "id"),
    )


class PollOption(IdMixin, Base):
    __tablename__ = "poll_options"

    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(512))


class PollVote(IdMixin, Base):
    """One ballot per participant and poll: the options chosen, or the free-text answer."""

    __tablename__ = "poll_votes"

    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    participant_name: Mapped[str | None] = mapped_column(String(255))
    option_ids: Mapped[list[str]] = mapped_column(default=list)
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("poll_id", "participant_id"),)

"""Questions, their answers and votes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from conclave.kit.db import Base, IdMixin
from conclave.kit.time import utcnow


class Question(IdMixin, Base):
    __tablename__ = "qa_questions"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    # Null when asked over the API while the room had no live session.
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    participant_name: Mapped[str | None] = mapped_column(String(255))
    external_participant_id: Mapped[str | None] = mapped_column(String(255))
    anonymous: Mapped[bool] = mapped_column(default=False)
    breakout_id: Mapped[str | None] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    # Who is answering live right now (``live-answers/start``), and the last outcome.
    live_answer_status: Mapped[str | None] = mapped_column(String(16))
    live_answer_by: Mapped[str | None] = mapped_column(String(255))
    vote_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("status IN ('open', 'dismissed')", name="status"),
        Index("ix_qa_questions_room_created", "room_id", "created_at", "id"),
    )


class Answer(IdMixin, Base):
    __tablename__ = "qa_answers"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("qa_questions.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    participant_name: Mapped[str | None] = mapped_column(String(255))
    external_participant_id: Mapped[str | None] = mapped_column(String(255))
    answer: Mapped[str] = mapped_column(Text)
    private: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class QuestionVote(IdMixin, Base):
    """One row per voter and question; ``voter`` is the person (external id, else participant id)."""

    __tablename__ = "qa_votes"

    question_id: Mapped[str] = mapped_column(ForeignKey("qa_questions.id", ondelete="CASCADE"))
    voter: Mapped[str] = mapped_column(String(300))
    participant_id: Mapped[str | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("question_id", "voter"),)

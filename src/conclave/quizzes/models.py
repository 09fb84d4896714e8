"""Quizzes (definitions) and their runs in sessions (results)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from conclave.kit.db import Base, IdMixin
from conclave.kit.time import utcnow


class Quiz(IdMixin, Base):
    __tablename__ = "quizzes"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(512))
    # Stored in seconds; the reference accepts minutes or seconds.
    time_limit_seconds: Mapped[int | None] = mapped_column(Integer)
    timing_mode: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="created")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("status IN ('created', 'launched', 'ended')", name="status"),
        Index("ix_quizzes_room_created", "room_id", "created_at", "id"),
    )


class QuizQuestion(IdMixin, Base):
    __tablename__ = "quiz_questions"

    quiz_id: Mapped[str] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(512))
    multiple: Mapped[bool] = mapped_column(default=False)


class QuizChoice(IdMixin, Base):
    __tablename__ = "quiz_choices"

    question_id: Mapped[str] = mapped_column(ForeignKey("quiz_questions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(512))
    correct: Mapped[bool] = mapped_column(default=False)


class QuizRun(IdMixin, Base):
    """One launch of a quiz in one session: its window and, through responses, its results."""

    __tablename__ = "quiz_runs"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    quiz_id: Mapped[str] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="launched")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("status IN ('launched', 'ended')", name="status"),)


class QuizResponse(IdMixin, Base):
    __tablename__ = "quiz_responses"

    run_id: Mapped[str] = mapped_column(ForeignKey("quiz_runs.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("quiz_questions.id", ondelete="CASCADE"))
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    participant_name: Mapped[str | None] = mapped_column(String(255))
    choice_ids: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("run_id", "question_id", "participant_id"),)

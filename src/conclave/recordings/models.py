"""Recording tables: one row per recording, one per produced file.

``room_id`` and ``session_id`` carry no foreign key on purpose: like the room event log, a
recording outlives the room or session it was made in (deleting a room does not silently
delete media someone may still need); its rows go away with the project or through the
recordings API, which also removes the stored files.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conclave.kit.db import Base, IdMixin, TimestampMixin

RECORDING_STATUSES = ("in_progress", "processing", "ready", "failed")
RECORDING_MODES = ("composite", "individual", "audio")


class Recording(IdMixin, TimestampMixin, Base):
    __tablename__ = "recordings"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    room_id: Mapped[str] = mapped_column(String(36), index=True)
    session_id: Mapped[str] = mapped_column(String(36), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    archived: Mapped[bool] = mapped_column(default=False)
    started_by: Mapped[str] = mapped_column(String(64))
    media_room_key: Mapped[str] = mapped_column(String(64))
    raw_dir: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column()
    stopped_at: Mapped[datetime | None] = mapped_column()
    ready_at: Mapped[datetime | None] = mapped_column()
    duration: Mapped[float | None] = mapped_column(Float)
    size: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)

    files: Mapped[list[RecordingFile]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="RecordingFile.position",
    )

    __table_args__ = (
        CheckConstraint("status IN ('in_progress', 'processing', 'ready', 'failed')", name="status"),
        CheckConstraint("mode IN ('composite', 'individual', 'audio')", name="mode"),
        Index("ix_recordings_project_created", "project_id", "created_at", "id"),
    )


class RecordingFile(IdMixin, Base):
    """One downloadable output: the composite, or one participant track in individual mode."""

    __tablename__ = "recording_files"

    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16))
    storage_key: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    duration: Mapped[float | None] = mapped_column(Float)
    start_offset: Mapped[float] = mapped_column(Float, default=0.0)
    feed_id: Mapped[int | None] = mapped_column(BigInteger)
    participant_id: Mapped[str | None] = mapped_column(String(36))
    participant_name: Mapped[str | None] = mapped_column(String(255))

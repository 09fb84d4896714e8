"""The room event log: every domain event, append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from conclave.kit.db import Base


class RoomEvent(Base):
    """One domain event as it happened; ``id`` is the event's id, shared with its webhook deliveries.

    ``room_id`` deliberately has no foreign key: ``room.deleted`` removes the room, but its log
    (and the webhook deliveries announcing the deletion) must outlive it. Rows go away only with
    their project.
    """

    __tablename__ = "room_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    room_id: Mapped[str | None] = mapped_column(String(36))
    session_id: Mapped[str | None] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        Index("ix_room_events_room", "project_id", "room_id", "created_at", "id"),
        Index("ix_room_events_project_created", "project_id", "created_at", "id"),
        Index("ix_room_events_session", "session_id", "created_at", "id"),
    )

"""Chat messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conclave.kit.db import Base, IdMixin
from conclave.kit.time import utcnow


class ChatMessage(IdMixin, Base):
    __tablename__ = "chat_messages"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    participant_name: Mapped[str | None] = mapped_column(String(255))
    external_participant_id: Mapped[str | None] = mapped_column(String(255))
    breakout_id: Mapped[str | None] = mapped_column(String(64))
    recipient_id: Mapped[str | None] = mapped_column(String(36))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_chat_messages_room_created", "room_id", "created_at", "id"),)

    @property
    def private(self) -> bool:
        return self.recipient_id is not None

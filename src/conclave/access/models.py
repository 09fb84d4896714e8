"""Custom roles and the record of issued access tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from conclave.kit.db import Base, IdMixin, TimestampMixin
from conclave.kit.time import utcnow


class Role(IdMixin, TimestampMixin, Base):
    __tablename__ = "roles"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    permissions: Mapped[dict[str, Any]] = mapped_column()

    __table_args__ = (UniqueConstraint("project_id", "name"),)


class IssuedToken(Base):
    """One row per issued jti: who it was for, and (later) where it was used."""

    __tablename__ = "issued_tokens"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[str] = mapped_column(String(128))
    user_external_id: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(64))
    not_before: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_used_at: Mapped[datetime | None] = mapped_column()
    first_used_ip: Mapped[str | None] = mapped_column(String(45))
    uses: Mapped[int] = mapped_column(default=0, server_default="0")


class BanRule(IdMixin, Base):
    """Keeps someone out: by external user id and/or IP, in one room or the whole project, until a time."""

    __tablename__ = "ban_rules"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(45))
    reason: Mapped[str | None] = mapped_column(String(500))
    expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("external_id IS NOT NULL OR ip IS NOT NULL", name="target"),
        Index("ix_ban_rules_project_created", "project_id", "created_at", "id"),
    )

"""Scene table: a project's reusable room template."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from conclave.kit.db import Base, IdMixin, TimestampMixin

SCENE_LAYOUTS = ("grid", "speaker", "sidebar", "spotlight")


class Scene(IdMixin, TimestampMixin, Base):
    """A named template a room points at through ``rooms.scene_id``.

    Names are unique per project so a person picking a scene in a UI (or an XRCLOUD client
    listing them) never sees two indistinguishable entries.
    """

    __tablename__ = "scenes"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    thumbnail_url: Mapped[str | None] = mapped_column(String(2048))
    layout: Mapped[str] = mapped_column(String(16), default="grid")
    background_color: Mapped[str | None] = mapped_column(String(7))
    background_image_url: Mapped[str | None] = mapped_column(String(2048))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    creator: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        Index("ix_scenes_project_created", "project_id", "created_at", "id"),
        CheckConstraint("layout IN ('grid', 'speaker', 'sidebar', 'spotlight')", name="layout"),
    )

"""scenes: stored room templates a room's scene_id points at

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import conclave.kit.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scenes",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("thumbnail_url", sa.String(length=2048), nullable=True),
        sa.Column("layout", sa.String(length=16), nullable=False),
        sa.Column("background_color", sa.String(length=7), nullable=True),
        sa.Column("background_image_url", sa.String(length=2048), nullable=True),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("creator", sa.String(length=200), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "layout IN ('grid', 'speaker', 'sidebar', 'spotlight')", name=op.f("ck_scenes_layout")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_scenes_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenes")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_scenes_project_id_name")),
    )
    with op.batch_alter_table("scenes", schema=None) as batch_op:
        batch_op.create_index("ix_scenes_project_created", ["project_id", "created_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scenes", schema=None) as batch_op:
        batch_op.drop_index("ix_scenes_project_created")

    op.drop_table("scenes")

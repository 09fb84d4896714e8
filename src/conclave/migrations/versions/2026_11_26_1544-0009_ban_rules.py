"""ban rules

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-26 15:44:05.755083
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import conclave.kit.db

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "ban_rules",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("expires_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("external_id IS NOT NULL OR ip IS NOT NULL", name=op.f("ck_ban_rules_target")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_ban_rules_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_ban_rules_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ban_rules")),
    )
    with op.batch_alter_table("ban_rules", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ban_rules_project_created", ["project_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ban_rules_project_id"), ["project_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("ban_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ban_rules_project_id"))
        batch_op.drop_index("ix_ban_rules_project_created")

    op.drop_table("ban_rules")

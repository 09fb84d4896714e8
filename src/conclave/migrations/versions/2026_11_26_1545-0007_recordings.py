"""recordings

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 15:45:12.738884
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import conclave.kit.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "recordings",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("media_room_key", sa.String(length=64), nullable=False),
        sa.Column("raw_dir", sa.Text(), nullable=False),
        sa.Column("started_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ready_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("mode IN ('composite', 'individual', 'audio')", name=op.f("ck_recordings_mode")),
        sa.CheckConstraint(
            "status IN ('in_progress', 'processing', 'ready', 'failed')", name=op.f("ck_recordings_status")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_recordings_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
    )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_recordings_project_created", ["project_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_recordings_room_id"), ["room_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_recordings_session_id"), ["session_id"], unique=False)

    op.create_table(
        "recording_files",
        sa.Column("recording_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("start_offset", sa.Float(), nullable=False),
        sa.Column("feed_id", sa.BigInteger(), nullable=True),
        sa.Column("participant_id", sa.String(length=36), nullable=True),
        sa.Column("participant_name", sa.String(length=255), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_recording_files_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_files")),
    )
    with op.batch_alter_table("recording_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recording_files_recording_id"), ["recording_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("recording_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recording_files_recording_id"))

    op.drop_table("recording_files")
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recordings_session_id"))
        batch_op.drop_index(batch_op.f("ix_recordings_room_id"))
        batch_op.drop_index("ix_recordings_project_created")

    op.drop_table("recordings")

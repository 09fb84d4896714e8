"""sessions and participants

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 15:30:05.395981
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import conclave.kit.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "sessions",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("media_node", sa.String(length=200), nullable=True),
        sa.Column("media_room_key", sa.String(length=64), nullable=False),
        sa.Column("owner_instance", sa.String(length=64), nullable=False),
        sa.Column("heartbeat_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("peak_participants", sa.Integer(), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("status IN ('live', 'ended')", name=op.f("ck_sessions_status")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_sessions_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_sessions_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_project_created", ["project_id", "created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sessions_project_id"), ["project_id"], unique=False)
        batch_op.create_index(
            "uq_sessions_live_room",
            ["room_id"],
            unique=True,
            sqlite_where=sa.text("status = 'live'"),
            postgresql_where=sa.text("status = 'live'"),
        )

    op.create_table(
        "participants",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("token_jti", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("resume_token", sa.String(length=64), nullable=True),
        sa.Column("feed_id", sa.Integer(), nullable=True),
        sa.Column("audio_muted", sa.Boolean(), nullable=False),
        sa.Column("video_muted", sa.Boolean(), nullable=False),
        sa.Column("joined_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("left_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("left_reason", sa.String(length=32), nullable=True),
        sa.Column("last_seen_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "status IN ('waiting', 'joined', 'disconnected', 'left', 'denied')",
            name=op.f("ck_participants_status"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_participants_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_participants_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_participants_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        sa.UniqueConstraint("resume_token", name=op.f("uq_participants_resume_token")),
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participants_external_id"), ["external_id"], unique=False)
        batch_op.create_index(
            "ix_participants_project_created", ["project_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_participants_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_participants_room_id"), ["room_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_participants_session_id"), ["session_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participants_session_id"))
        batch_op.drop_index(batch_op.f("ix_participants_room_id"))
        batch_op.drop_index(batch_op.f("ix_participants_project_id"))
        batch_op.drop_index("ix_participants_project_created")
        batch_op.drop_index(batch_op.f("ix_participants_external_id"))

    op.drop_table("participants")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_sessions_live_room",
            sqlite_where=sa.text("status = 'live'"),
            postgresql_where=sa.text("status = 'live'"),
        )
        batch_op.drop_index(batch_op.f("ix_sessions_project_id"))
        batch_op.drop_index("ix_sessions_project_created")

    op.drop_table("sessions")

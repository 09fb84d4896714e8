"""foundation: tenancy, rooms, roles, tokens

Revision ID: 0001
Revises:
Create Date: 2026-11-26 15:02:32.713408
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import conclave.kit.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "organizations",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    op.create_table(
        "projects",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column(
            "labels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("domain", sa.String(length=253), nullable=True),
        sa.Column("webhook_url", sa.String(length=2048), nullable=True),
        sa.Column("logout_url", sa.String(length=2048), nullable=True),
        sa.Column("return_url", sa.String(length=2048), nullable=True),
        sa.Column(
            "features",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "lock_settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "extra_data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "room_defaults",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("max_active_rooms", sa.Integer(), nullable=True),
        sa.Column("max_daily_rooms", sa.Integer(), nullable=True),
        sa.Column("max_participants_per_room", sa.Integer(), nullable=True),
        sa.Column("max_api_calls_per_day", sa.Integer(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'inactive', 'suspended')", name=op.f("ck_projects_status")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_projects_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("app_id", name=op.f("uq_projects_app_id")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_projects_organization_id"), ["organization_id"], unique=False)

    op.create_table(
        "credentials",
        sa.Column("organization_id", sa.String(length=36), nullable=True),
        sa.Column("project_id", sa.String(length=36), nullable=True),
        sa.Column("key_id", sa.String(length=128), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "(organization_id IS NULL) <> (project_id IS NULL)", name=op.f("ck_credentials_one_owner")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_credentials_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_credentials_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("key_id", name=op.f("uq_credentials_key_id")),
        sa.UniqueConstraint("secret_digest", name=op.f("uq_credentials_secret_digest")),
    )
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credentials_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credentials_project_id"), ["project_id"], unique=False)

    op.create_table(
        "project_daily_usage",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("rooms_created", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_daily_usage_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "day", name=op.f("pk_project_daily_usage")),
    )
    op.create_table(
        "roles",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column(
            "permissions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_roles_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_roles_project_id_name")),
    )
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roles_project_id"), ["project_id"], unique=False)

    op.create_table(
        "rooms",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("friendly_url", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("privacy", sa.String(length=8), nullable=False),
        sa.Column("is_locked", sa.Boolean(), nullable=False),
        sa.Column("max_participants", sa.Integer(), nullable=False),
        sa.Column("session_length", sa.Integer(), nullable=False),
        sa.Column("empty_timeout", sa.Integer(), nullable=True),
        sa.Column("default_role", sa.String(length=64), nullable=False),
        sa.Column(
            "roles",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("scheduled_start_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("nbf", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("exp", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("scene_id", sa.String(length=64), nullable=True),
        sa.Column("return_url", sa.String(length=2048), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ended_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('video', 'audio')", name=op.f("ck_rooms_kind")),
        sa.CheckConstraint("privacy IN ('public', 'private')", name=op.f("ck_rooms_privacy")),
        sa.CheckConstraint("status IN ('scheduled', 'idle', 'live', 'ended')", name=op.f("ck_rooms_status")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_rooms_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("project_id", "external_id", name=op.f("uq_rooms_project_id_external_id")),
        sa.UniqueConstraint("project_id", "friendly_url", name=op.f("uq_rooms_project_id_friendly_url")),
    )
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.create_index("ix_rooms_project_created", ["project_id", "created_at", "id"], unique=False)

    op.create_table(
        "issued_tokens",
        sa.Column("jti", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=128), nullable=False),
        sa.Column("user_external_id", sa.String(length=255), nullable=True),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("not_before", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_issued_tokens_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_issued_tokens_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_issued_tokens")),
    )
    with op.batch_alter_table("issued_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issued_tokens_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_issued_tokens_room_id"), ["room_id"], unique=False)

    op.create_table(
        "room_tags",
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_room_tags_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("room_id", "tag", name=op.f("pk_room_tags")),
    )
    with op.batch_alter_table("room_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_room_tags_tag"), ["tag"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("room_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_room_tags_tag"))

    op.drop_table("room_tags")
    with op.batch_alter_table("issued_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_tokens_room_id"))
        batch_op.drop_index(batch_op.f("ix_issued_tokens_project_id"))

    op.drop_table("issued_tokens")
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_index("ix_rooms_project_created")

    op.drop_table("rooms")
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roles_project_id"))

    op.drop_table("roles")
    op.drop_table("project_daily_usage")
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_project_id"))
        batch_op.drop_index(batch_op.f("ix_credentials_organization_id"))

    op.drop_table("credentials")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_projects_organization_id"))

    op.drop_table("projects")
    op.drop_table("organizations")

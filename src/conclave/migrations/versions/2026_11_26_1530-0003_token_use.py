"""token use: when and from where an issued token first admitted someone

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import conclave.kit.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("issued_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_used_at", conclave.kit.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("first_used_ip", sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column("uses", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("issued_tokens", schema=None) as batch_op:
        batch_op.drop_column("uses")
        batch_op.drop_column("first_used_ip")
        batch_op.drop_column("first_used_at")

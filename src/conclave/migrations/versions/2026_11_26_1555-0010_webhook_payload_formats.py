"""webhook payload formats

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 15:55:07.410657
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("webhook_format", sa.String(length=16), server_default="conclave", nullable=False)
        )

    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("payload_format", sa.String(length=16), server_default="conclave", nullable=False)
        )


def downgrade() -> None:

    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_column("payload_format")

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("webhook_format")

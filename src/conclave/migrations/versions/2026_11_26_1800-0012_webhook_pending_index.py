"""index only the pending webhook deliveries

Delivery now drains an endpoint's queues in rounds that read the oldest pending deliveries of
every room at once; a partial index keeps that read proportional to the backlog rather than to
the endpoint's whole delivery history.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = "status = 'pending'"


def upgrade() -> None:
    op.drop_index("ix_webhook_deliveries_queue", table_name="webhook_deliveries")
    op.create_index(
        "ix_webhook_deliveries_pending",
        "webhook_deliveries",
        ["endpoint_id", "ordering_key", "created_at", "id"],
        sqlite_where=sa.text(_PENDING),
        postgresql_where=sa.text(_PENDING),
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_pending", table_name="webhook_deliveries")
    op.create_index(
        "ix_webhook_deliveries_queue",
        "webhook_deliveries",
        ["endpoint_id", "ordering_key", "status", "created_at", "id"],
    )

"""spread a project's daily usage counters over shards

Every room creation added one to its project's row of the day, and that row stayed locked until the
creation committed: on PostgreSQL, concurrent creations in one project waited for each other (most
of the server's database sessions sat in a row-lock wait during a create-room benchmark). A project
without a limit now adds to one of several rows of the day, chosen at random; a limited project
still counts on shard 0, whose lock keeps its limit exact. Totals are the sum over the shards.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 21:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("project_daily_usage") as batch:
        batch.add_column(sa.Column("shard", sa.SmallInteger(), nullable=False, server_default="0"))
        batch.drop_constraint("pk_project_daily_usage", type_="primary")
        batch.create_primary_key("pk_project_daily_usage", ["project_id", "day", "shard"])


def downgrade() -> None:
    # Fold every day's shards into one row (shard -1 while the others are deleted, then 0).
    op.execute(
        "INSERT INTO project_daily_usage (project_id, day, shard, api_calls, rooms_created) "
        "SELECT project_id, day, -1, SUM(api_calls), SUM(rooms_created) FROM project_daily_usage "
        "GROUP BY project_id, day"
    )
    op.execute("DELETE FROM project_daily_usage WHERE shard <> -1")
    with op.batch_alter_table("project_daily_usage") as batch:
        batch.drop_constraint("pk_project_daily_usage", type_="primary")
        batch.drop_column("shard")
        batch.create_primary_key("pk_project_daily_usage", ["project_id", "day"])

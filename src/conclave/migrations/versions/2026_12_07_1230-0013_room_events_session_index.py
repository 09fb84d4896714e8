"""index the room event log by session

A joiner is sent the live state of its session (polls, questions, quizzes) from the room event
log. Without an index on the session, that read walked every event of the project, so every
join grew slower as the project's history grew.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_room_events_session", "room_events", ["session_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_room_events_session", table_name="room_events")

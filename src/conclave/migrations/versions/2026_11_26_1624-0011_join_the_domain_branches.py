"""join the domain branches

Revision ID: 0011
Revises: 0007, 0008, 0010
Create Date: 2026-11-26 16:24:17.630115
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0011"
down_revision: str | Sequence[str] | None = ("0007", "0008", "0010")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

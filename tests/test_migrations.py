"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from conclave.kit.migrate import head_revisions
from conclave.models import Base


async def test_schema_matches_models(database_url: str) -> None:
    def diff(connection: Connection) -> tuple[list[Any], frozenset[str]]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata), frozenset(context.get_current_heads())

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences, heads = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []
    assert heads == head_revisions(database_url) and len(heads) == 1

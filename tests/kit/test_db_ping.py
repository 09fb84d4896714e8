"""PostgreSQL pool: connections that died while idle are replaced before a request uses them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from conclave.kit.db import create_engine

pytestmark = pytest.mark.postgresql_only


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        pid: int = await connection.scalar(text("SELECT pg_backend_pid()"))
        return pid


async def _terminate(database_url: str, pid: int) -> None:
    """What a database restart or an idle-connection timeout does to one pooled connection."""
    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def pool_with_a_dead_connection(
    database_url: str, ping_after_idle_s: float
) -> AsyncIterator[tuple[AsyncEngine, int]]:
    """An engine whose one pooled connection was killed 0.2 s ago, and that connection's pid."""
    engine = create_engine(database_url, ping_after_idle_s=ping_after_idle_s)
    try:
        killed = await _backend_pid(engine)
        await _terminate(database_url, killed)
        await asyncio.sleep(0.2)
        yield engine, killed
    finally:
        await engine.dispose()


async def test_a_connection_that_died_while_idle_is_replaced_without_an_error(database_url: str) -> None:
    async with pool_with_a_dead_connection(database_url, ping_after_idle_s=0.05) as (engine, killed):
        assert await _backend_pid(engine) != killed  # idle longer than 0.05 s: the checkout pinged


async def test_a_connection_used_a_moment_ago_is_not_pinged(database_url: str) -> None:
    """The other side of the trade: no ping round trip for a busy pool (and proof the one above pings)."""
    async with pool_with_a_dead_connection(database_url, ping_after_idle_s=60) as (engine, killed):
        with pytest.raises(DBAPIError) as failure:
            await _backend_pid(engine)
        assert failure.value.connection_invalidated
        # SQLAlchemy replaced the dead connection: the next request works again.
        assert await _backend_pid(engine) != killed

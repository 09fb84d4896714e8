"""Group commit: concurrent inserts share transactions, and a bad row fails alone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from conclave.kit.db import create_engine
from conclave.kit.group_commit import GroupCommitter


@pytest.fixture
async def probe(database_url: str) -> AsyncIterator[tuple[AsyncEngine, Table, list[int]]]:
    """An engine, a throwaway table with a unique column, and a list that counts the INSERTs sent.

    Each INSERT the writer sends is one transaction: committed on SQLite, and on PostgreSQL run
    outside an explicit transaction (so there is no commit to count).
    """
    metadata = MetaData()
    table = Table(
        f"group_commit_probe_{uuid.uuid4().hex[:8]}",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(32), unique=True),
    )
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    inserts: list[int] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT"):
            inserts.append(1)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield engine, table, inserts
    finally:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)
        await engine.dispose()


async def _names(engine: AsyncEngine, table: Table) -> set[str]:
    async with engine.connect() as connection:
        return set((await connection.execute(select(table.c.name))).scalars())


async def test_concurrent_inserts_share_a_commit(probe: tuple[AsyncEngine, Table, list[int]]) -> None:
    engine, table, inserts = probe
    committer = GroupCommitter(engine)
    statement = insert(table)
    await asyncio.gather(*(committer.insert(statement, {"id": i, "name": f"n{i}"}) for i in range(40)))
    assert await _names(engine, table) == {f"n{i}" for i in range(40)}
    # Forty requests queued before the writer ran: far fewer INSERTs (and commits) than rows.
    assert len(inserts) <= 2, inserts


async def test_several_writers_write_every_row_once(probe: tuple[AsyncEngine, Table, list[int]]) -> None:
    engine, table, inserts = probe
    committer = GroupCommitter(engine, max_writers=3)
    statement = insert(table)

    async def requests(start: int) -> None:
        for i in range(start, start + 20):  # one after another: writers start and finish in turn
            await committer.insert(statement, {"id": i, "name": f"n{i}"})

    await asyncio.gather(*(requests(start) for start in range(0, 200, 20)))
    await committer.drain()
    assert await _names(engine, table) == {f"n{i}" for i in range(200)}
    assert len(inserts) < 200


async def test_a_bad_row_fails_alone(probe: tuple[AsyncEngine, Table, list[int]]) -> None:
    engine, table, _ = probe
    committer = GroupCommitter(engine)
    statement = insert(table)
    rows = [{"id": i, "name": f"n{i}"} for i in range(10)]
    rows[4] = {"id": 4, "name": "n3"}  # breaks the unique name
    results = await asyncio.gather(
        *(committer.insert(statement, row) for row in rows), return_exceptions=True
    )
    failed = [i for i, result in enumerate(results) if isinstance(result, Exception)]
    assert failed == [4] and isinstance(results[4], IntegrityError)  # rows are retried in order
    assert len(await _names(engine, table)) == 9


async def test_a_cancelled_waiter_still_gets_its_row_written(
    probe: tuple[AsyncEngine, Table, list[int]],
) -> None:
    engine, table, _ = probe
    committer = GroupCommitter(engine)
    waiter = asyncio.create_task(committer.insert(insert(table), {"id": 1, "name": "kept"}))
    await asyncio.sleep(0)  # queued, and the writer started
    waiter.cancel()
    await committer.drain()
    assert await _names(engine, table) == {"kept"}
    async with engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(table)) == 1


async def test_an_insert_made_as_the_writer_finishes_is_written(
    probe: tuple[AsyncEngine, Table, list[int]],
) -> None:
    """A request woken by its commit can queue its next row before the finished writer is gone
    from the writer set: that row must still get a writer instead of waiting for the next insert."""
    engine, table, _ = probe
    committer = GroupCommitter(engine)
    statement = insert(table)
    async with asyncio.timeout(10):  # not wait_for: the inserts must run in this task, one by one
        for i in range(3):
            await committer.insert(statement, {"id": i, "name": f"n{i}"})
    assert await _names(engine, table) == {"n0", "n1", "n2"}

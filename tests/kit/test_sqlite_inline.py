"""SQLite on the event loop: transactions run without yielding unless asked to."""

from __future__ import annotations

import asyncio
from pathlib import Path

from conclave.kit.sqlite_inline import inline_connector, yielding_while

STATEMENTS = 20


async def _loop_turns_during_statements(database: Path, pending: asyncio.Future[None] | None) -> int:
    """How many times another task ran while one task executed ``STATEMENTS`` statements."""
    connection = await inline_connector(str(database))()
    turns = 0
    stop = False

    async def ticker() -> None:
        nonlocal turns
        while not stop:
            turns += 1
            await asyncio.sleep(0)

    task = asyncio.get_running_loop().create_task(ticker())
    await asyncio.sleep(0)  # the ticker has started and waits for its next turn
    turns = 0
    cursor = connection.cursor()
    try:
        if pending is None:
            for _ in range(STATEMENTS):
                await cursor.execute("SELECT 1")
        else:
            with yielding_while(pending):
                for _ in range(STATEMENTS):
                    await cursor.execute("SELECT 1")
        counted = turns
    finally:
        stop = True
        await task
        await connection.close()
    return counted


async def test_statements_run_start_to_finish_by_default(tmp_path: Path) -> None:
    assert await _loop_turns_during_statements(tmp_path / "a.db", None) == 0


async def test_statements_let_the_loop_run_while_asked(tmp_path: Path) -> None:
    pending: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    assert await _loop_turns_during_statements(tmp_path / "b.db", pending) >= STATEMENTS


async def test_statements_stop_yielding_once_the_awaited_work_is_done(tmp_path: Path) -> None:
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    done.set_result(None)
    assert await _loop_turns_during_statements(tmp_path / "c.db", done) == 0

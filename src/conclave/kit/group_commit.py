"""Group commit: the single-row INSERTs of many concurrent requests, written in one transaction.

Why: recording an issued token is the only write a token request makes, and a transaction of its
own per row cost more than the rest of the request. Concurrent requests queue their rows here;
one writer inserts everything queued (``executemany`` per table) and commits once, then every
waiting request returns. Each row is still committed before its request answers, so nothing is
acknowledged that a crash could lose.

If a batch fails (say one row breaks a foreign key because its room was just deleted), each row
of it is retried alone, so only the request whose row is at fault sees the error.

Only for rows that need no other write of their request to be visible: the writer uses its own
connection, so a request that has already written in its own transaction must insert there
instead (on SQLite its write lock would block the writer, and its rows are not visible yet).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.ext.asyncio import AsyncEngine

MAX_BATCH_ROWS = 500

_Queued = tuple[Insert, dict[str, Any], "asyncio.Future[None]"]


class GroupCommitter:
    """``max_writers`` batches may be written at once, each on a connection of its own.

    One suits SQLite (one connection, and its statements run on the loop's thread). On PostgreSQL
    a batch mostly waits for its commit to reach the disk; with one writer the server sat idle
    for a fifth of a token benchmark, so several write side by side.
    """

    def __init__(
        self, engine: AsyncEngine, *, max_batch_rows: int = MAX_BATCH_ROWS, max_writers: int = 1
    ) -> None:
        self.engine = engine
        self.max_batch_rows = max_batch_rows
        self.max_writers = max_writers
        self._queue: list[_Queued] = []
        self._writers: set[asyncio.Task[None]] = set()

    async def insert(self, statement: Insert, row: dict[str, Any]) -> None:
        """Return once ``row`` is committed by ``statement`` (reuse one, for the compiled cache);
        raise what inserting it alone raised."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((statement, row, future))
        # A writer that found the queue empty is done at once, but leaves ``_writers`` only when
        # its done-callback runs, later in the loop: counting it would leave this row waiting for
        # the next insert (forever, for the last request before a quiet spell).
        if sum(not writer.done() for writer in self._writers) < self.max_writers:
            writer = asyncio.create_task(self._write_queue(), name="group-commit")
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        # A request cancelled while waiting cancels only its future: its row stays queued and is
        # written all the same, and the writer skips resolving a future that is already done.
        await future

    async def drain(self) -> None:
        """Wait until everything queued so far is written (at shutdown, before the engine goes)."""
        while self._writers:
            await asyncio.shield(asyncio.gather(*self._writers))

    async def _write_queue(self) -> None:
        while self._queue:
            # One pass of the loop first: requests whose bytes arrived while the last batch was
            # written (on SQLite it blocks the loop) reach the queue. It raised the mean batch
            # from ~7 to ~10 rows at 16 connections; waiting longer only left the loop idle.
            await asyncio.sleep(0)
            batch = self._queue[: self.max_batch_rows]
            del self._queue[: self.max_batch_rows]
            if not batch:  # another writer took it
                return
            try:
                await self._write(batch)
            except Exception:
                for item in batch:
                    await self._write_alone(item)
            else:
                for _, _, future in batch:
                    if not future.done():
                        future.set_result(None)

    async def _write_alone(self, item: _Queued) -> None:
        future = item[2]
        try:
            await self._write([item])
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(None)

    async def _write(self, batch: Sequence[_Queued]) -> None:
        by_statement: dict[Insert, list[dict[str, Any]]] = {}
        for statement, row, _ in batch:
            by_statement.setdefault(statement, []).append(row)
        async with self.engine.begin() as connection:
            for statement, rows in by_statement.items():
                await connection.execute(statement, rows)

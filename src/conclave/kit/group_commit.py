"""Group commit: the single-row INSERTs of many concurrent requests, written in one transaction.

Why: recording an issued token is the only write a token request makes, and a transaction of its
own per row cost more than the rest of the request. Concurrent requests queue their rows here;
one writer inserts everything queued for a statement (``executemany``) and commits once, then every
waiting request returns. Each row is still committed before its request answers, so nothing is
acknowledged that a crash could lose.

On PostgreSQL the rows go without an explicit transaction (``AUTOCOMMIT``): asyncpg sends an
``executemany`` as one pipeline that PostgreSQL runs as one implicit transaction, all rows or none
(asyncpg >= 0.22), committed when it ends. That is one round trip where BEGIN, the rows and COMMIT
were three, and each of them waited for the busy event loop to read its reply.

If a statement's rows fail (say one breaks a foreign key because its room was just deleted), each
of them is retried alone, so only the request whose row is at fault sees the error.

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
        # The same pool, its connections switched to autocommit while the writer holds them.
        self._autocommit: AsyncEngine | None = None
        if engine.dialect.name == "postgresql":
            self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

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
            by_statement: dict[Insert, list[_Queued]] = {}
            for item in batch:
                by_statement.setdefault(item[0], []).append(item)
            for statement, items in by_statement.items():
                await self._write_or_retry_alone(statement, items)

    async def _write_or_retry_alone(self, statement: Insert, items: Sequence[_Queued]) -> None:
        try:
            await self._write(statement, [row for _, row, _ in items])
        except Exception as exc:
            if len(items) > 1:
                for item in items:
                    await self._write_or_retry_alone(statement, [item])
                return
            _resolve(items[0][2], exc)
        else:
            for _, _, future in items:
                _resolve(future, None)

    async def _write(self, statement: Insert, rows: list[dict[str, Any]]) -> None:
        if self._autocommit is not None:
            async with self._autocommit.connect() as connection:
                await connection.execute(statement, rows)
        else:
            async with self.engine.begin() as connection:
                await connection.execute(statement, rows)


def _resolve(future: asyncio.Future[None], error: Exception | None) -> None:
    if future.done():  # its request was cancelled
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)

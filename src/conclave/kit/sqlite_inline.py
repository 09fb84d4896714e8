"""An aiosqlite-compatible connection that runs SQLite on the event loop's own thread.

Why this exists: aiosqlite sends every statement to a worker thread and wakes the event loop
when it is done. Each hop costs far more than the statement itself (a small indexed SQLite
statement takes microseconds), and because the loop runs other requests between the hops, a
transaction on Conclave's single SQLite connection stays open for the duration of all that
interleaved work: every other request queues behind it. Running the statements inline makes
a transaction execute start to finish without yielding, so SQLite throughput is bounded by
CPU instead of by hand-offs. No maintained package offers this; it plugs into SQLAlchemy's
``aiosqlite`` dialect through the documented ``async_creator`` hook, so SQLAlchemy's own
adapter, type handling and pooling are unchanged.

What it gives up, and how that is bounded:

- A statement blocks the loop while it runs. With WAL and ``synchronous=NORMAL`` a commit
  does not wait for the disk, so that is the CPU time of the statement; the embedded
  database is for one server, and PostgreSQL is the production backend.
- Waiting for another process's write lock must never block the loop, so SQLite's own busy
  handler is off (``busy_timeout=0``) and a busy lock is retried here with ``asyncio.sleep``
  until ``busy_timeout`` seconds have passed, exactly what the busy handler would have done.
  ``SQLITE_BUSY_SNAPSHOT`` (another writer committed after this transaction read) cannot be
  cured by waiting, and SQLite's handler does not retry it either: it is raised at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

SQLITE_BUSY = 5
SQLITE_LOCKED = 6
_FIRST_PAUSE_S = 0.001
_MAX_PAUSE_S = 0.05

# SQLAlchemy's adapter reads the exception classes from the driver module it is given.
Error = sqlite3.Error
DatabaseError = sqlite3.DatabaseError
IntegrityError = sqlite3.IntegrityError
NotSupportedError = sqlite3.NotSupportedError
OperationalError = sqlite3.OperationalError
ProgrammingError = sqlite3.ProgrammingError


_YIELD_WHILE: contextvars.ContextVar[asyncio.Future[Any] | None] = contextvars.ContextVar(
    "conclave_sqlite_yield_while", default=None
)


@contextlib.contextmanager
def yielding_while(pending: asyncio.Future[Any]) -> Iterator[None]:
    """Let the loop run once before each statement of this task while ``pending`` is not done.

    For work that must progress during a transaction (a join's media requests, whose replies
    need the loop): the transaction gives up its start-to-finish run only for that long.
    """
    token = _YIELD_WHILE.set(pending)
    try:
        yield
    finally:
        _YIELD_WHILE.reset(token)


async def _yield_if_asked() -> None:
    pending = _YIELD_WHILE.get()
    if pending is not None and not pending.done():
        await asyncio.sleep(0)


def _busy(error: sqlite3.OperationalError) -> bool:
    """A lock held by another connection: waiting helps (unlike BUSY_SNAPSHOT = 517)."""
    return getattr(error, "sqlite_errorcode", None) in (SQLITE_BUSY, SQLITE_LOCKED)


async def _retrying_busy(busy_timeout: float, call: Callable[[], T]) -> T:
    deadline = time.monotonic() + busy_timeout
    pause = _FIRST_PAUSE_S
    while True:
        try:
            return call()
        except sqlite3.OperationalError as error:
            # A busy statement made no change, so running it again is safe.
            if not _busy(error) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, _MAX_PAUSE_S)


class InlineCursor:
    """The subset of ``aiosqlite.Cursor`` that SQLAlchemy's adapter calls."""

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._cursor = connection.raw.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineCursor:
        await _yield_if_asked()
        await _retrying_busy(self._connection.busy_timeout, lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        rows = list(parameters)
        await _retrying_busy(self._connection.busy_timeout, lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class InlineConnection:
    """The subset of ``aiosqlite.Connection`` that SQLAlchemy's adapter calls."""

    def __init__(self, raw: sqlite3.Connection, busy_timeout: float) -> None:
        self.raw = raw
        self.busy_timeout = busy_timeout
        self._closed = False

    @property
    def _connection(self) -> sqlite3.Connection | None:
        """aiosqlite's name for the open connection; SQLAlchemy checks it before commit/rollback."""
        return None if self._closed else self.raw

    @property
    def isolation_level(self) -> str | None:
        return self.raw.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def commit(self) -> None:
        await _retrying_busy(self.busy_timeout, self.raw.commit)

    async def rollback(self) -> None:
        self.raw.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self.raw.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if not self._closed:
            self._closed = True
            self.raw.close()


def inline_connector(database: str, *, busy_timeout: float = 10.0) -> Callable[[], Any]:
    """``async_creator`` for ``create_async_engine``: opens ``database`` with SQLite's busy handler off."""

    async def connect() -> InlineConnection:
        raw = sqlite3.connect(database, check_same_thread=False, uri=database.startswith("file:"))
        raw.execute("PRAGMA busy_timeout=0")
        return InlineConnection(raw, busy_timeout)

    return connect

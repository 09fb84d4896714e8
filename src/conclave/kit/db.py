"""Database engine, declarative base and portable column types (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, Table, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.types import TypeDecorator

from conclave.kit.ids import new_id
from conclave.kit.sqlite_inline import inline_connector
from conclave.kit.time import utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_STORED_LENGTH = len("2026-01-01 00:00:00.000000")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always returns aware datetimes, since SQLite drops the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use conclave.kit.time.utcnow()")
        return value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Any:
        """On SQLite, the text SQLAlchemy's SQLite ``DATETIME`` stores, written by ``isoformat``.

        Why: SQLAlchemy formats each value through a seven-key dict (about 1.7 µs); an issued
        token's row holds three. The text is the same (``tests/kit/test_db_types.py``).
        """
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        to_stored = self.process_bind_param

        def process(value: datetime | None) -> str | None:
            stored = to_stored(value, dialect)
            # Always UTC here: the text without its "+00:00".
            return None if stored is None else stored.isoformat(" ", "microseconds")[:_STORED_LENGTH]

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType, list[str]: JSONType}


def table_of(model: type[Base]) -> Table:
    """A mapped class's table, typed as one, for the Core statements of hot paths."""
    table: Table = model.__table__  # type: ignore[assignment]
    return table


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


SQLITE_BUSY_TIMEOUT_S = 10.0
"""How long a statement waits for another process's write lock (e.g. ``conclave admin``)."""


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


PING_AFTER_IDLE_S = 1.0
"""A pooled PostgreSQL connection unused for longer than this is pinged before use (see below)."""


def create_engine(url: str, *, ping_after_idle_s: float = PING_AFTER_IDLE_S) -> AsyncEngine:
    if is_sqlite(url):
        # One connection: SQLite has one writer, and queueing in asyncio beats SQLite's busy-wait
        # polling (and its BUSY_SNAPSHOT failures) when requests write concurrently. Statements run
        # on the loop's thread (see kit.sqlite_inline), so a transaction never waits on hand-offs.
        database = make_url(url).database or ":memory:"
        engine = create_async_engine(
            url,
            async_creator=inline_connector(database, busy_timeout=SQLITE_BUSY_TIMEOUT_S),
            poolclass=AsyncAdaptedQueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    engine = create_async_engine(url, pool_size=10, max_overflow=20)
    ping_after_idle(engine, ping_after_idle_s)
    return engine


_LAST_CHECKIN = "conclave.last_checkin"


def ping_after_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a pooled connection before use only when it sat idle longer than ``idle_seconds``.

    Why not ``pool_pre_ping``: it pings on every checkout, which is one extra database round trip
    per request (about 15-25% of a token request's throughput on PostgreSQL). A connection that was
    in use a moment ago is alive as far as a ping could tell: a ping only catches connections that
    died while idle (a database restart, an idle timeout, a failover), and those are the ones that
    sat unused. A connection that dies in between still fails its statement, and SQLAlchemy then
    replaces the whole pool, as it would with ``pool_pre_ping``. A failed ping raises
    ``DisconnectionError``, so the pool opens a fresh connection and the request never sees it.
    """
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_CHECKIN] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_CHECKIN)  # absent: a connection opened just now
        if last is None or time.monotonic() - last <= idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

"""One transaction per request or job, committed by the framework, never inside services.

``finish`` is the single place a unit of work ends: durable event consumers write their rows
just before the commit (same transaction), and after the commit the bus publishes the events
and ``on_commit`` callbacks run (e.g. waking the job runner). On rollback all of it is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from conclave.kit.events import EventBus, peek_pending, take_pending

log = logging.getLogger(__name__)

_ON_COMMIT_KEY = "conclave.on_commit"
_CONNECTED_KEY = "conclave.connected"


@event.listens_for(Session, "after_begin")
def _note_connection(session: Session, _transaction: object, _connection: object) -> None:
    session.info[_CONNECTED_KEY] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_connection(session: Session, transaction: object) -> None:
    if getattr(transaction, "parent", None) is None:
        session.info.pop(_CONNECTED_KEY, None)


def has_used_database(session: AsyncSession) -> bool:
    """Whether the session's current transaction has run SQL (``in_transaction`` is also true after
    a mere ``session.add``, which touches no connection)."""
    return bool(session.info.get(_CONNECTED_KEY))


def on_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's transaction has committed; dropped on rollback."""
    callbacks: list[Callable[[], None]] = session.info.setdefault(_ON_COMMIT_KEY, [])
    if callback not in callbacks:
        callbacks.append(callback)


async def finish(session: AsyncSession, bus: EventBus, *, commit: bool) -> None:
    """Commit (or roll back) and close; publish the transaction's events only after a commit."""
    callbacks: list[Callable[[], None]] = []
    if _untouched(session):
        # Nothing to commit or roll back, and no connection to give back: closing only forgets
        # the session's objects, without I/O, so it needs no trip through the async adapter.
        session.sync_session.close()
        return
    try:
        if commit:
            pending = peek_pending(session)
            if pending:
                await bus.before_commit(session, pending)
            await session.commit()
            events = take_pending(session)
            callbacks = session.info.pop(_ON_COMMIT_KEY, [])
        else:
            await session.rollback()
            take_pending(session)
            session.info.pop(_ON_COMMIT_KEY, None)
            events = []
    except BaseException:
        # A failed commit (or pre-commit consumer) must leave nothing queued for a later reuse.
        take_pending(session)
        session.info.pop(_ON_COMMIT_KEY, None)
        raise
    finally:
        await session.close()
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("after-commit callback failed")
    if events:
        await bus.publish(events)


def _untouched(session: AsyncSession) -> bool:
    """The session ran no SQL, holds no change, and has no event or callback waiting for a commit."""
    return not (
        has_used_database(session)
        or session.new
        or session.dirty
        or session.deleted
        or peek_pending(session)
        or session.info.get(_ON_COMMIT_KEY)
    )


def is_pristine(session: AsyncSession) -> bool:
    """As a new session: no transaction begun, no object held, nothing noted in ``info``.

    Such a session can serve another unit of work as it is (SQLAlchemy sessions are reusable);
    nothing is lost by not closing it, since it never held a connection.
    """
    return not (session.sync_session.in_transaction() or session.identity_map or session.info)


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus
) -> AsyncIterator[AsyncSession]:
    """A unit of work outside HTTP (CLI, jobs): commits on success, rolls back on error."""
    session = sessionmaker()
    try:
        yield session
    except BaseException:
        await finish(session, bus, commit=False)
        raise
    await finish(session, bus, commit=True)

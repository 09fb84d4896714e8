"""One transaction per request or job, committed by the framework, never inside services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conclave.kit.events import EventBus, take_pending


async def finish(session: AsyncSession, bus: EventBus, *, commit: bool) -> None:
    """Commit (or roll back) and close; publish the transaction's events only after a commit."""
    try:
        if commit:
            await session.commit()
            events = take_pending(session)
        else:
            await session.rollback()
            take_pending(session)
            events = []
    finally:
        await session.close()
    if events:
        await bus.publish(events)


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

"""``write_last``: after the bus's durable consumers, just before COMMIT; dropped on rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conclave.kit.db import create_engine, create_sessionmaker
from conclave.kit.events import DomainEvent, InProcessEventBus, emit
from conclave.kit.transaction import finish, write_last
from conclave.tenancy.models import Organization


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def test_the_last_write_follows_the_durable_consumers_and_commits_with_them(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    order: list[str] = []
    bus = InProcessEventBus()

    async def consumer(session: AsyncSession, events: list[DomainEvent]) -> None:
        order.append("consumer")

    async def last(session: AsyncSession) -> None:
        order.append("last")
        session.add(Organization(name="written last"))
        await session.flush()

    bus.subscribe_in_transaction(consumer)
    session = sessions()
    await session.execute(text("SELECT 1"))
    emit(session, DomainEvent(type="probe", project_id="p", data={}))
    write_last(session, last)
    await finish(session, bus, commit=True)
    assert order == ["consumer", "last"]
    async with sessions() as check:
        names = (await check.execute(select(Organization.name))).scalars().all()
        assert "written last" in names


async def test_a_rolled_back_transaction_drops_its_last_writes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ran: list[str] = []

    async def last(session: AsyncSession) -> None:
        ran.append("last")

    session = sessions()
    await session.execute(text("SELECT 1"))
    write_last(session, last)
    await finish(session, InProcessEventBus(), commit=False)
    assert ran == [] and not session.info

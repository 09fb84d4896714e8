"""Read caches are emptied by this process's commits to their tables, and only by commits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conclave.kit.db import create_engine, create_sessionmaker
from conclave.kit.read_cache import (
    ReadCache,
    ReadOnlyRowChanged,
    attached,
    detached_row,
    read_only_row,
    row_values,
)
from conclave.tenancy.models import Organization, Project


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def _organization(sessions: async_sessionmaker[AsyncSession], name: str = "cached") -> str:
    async with sessions() as session, session.begin():
        organization = Organization(name=name)
        session.add(organization)
    return organization.id


def _cache(**options: float | bool) -> ReadCache[str, str]:
    ttl = float(options.pop("ttl_seconds", 60.0))
    return ReadCache(("organizations",), ttl_seconds=ttl, **options)  # type: ignore[arg-type]


async def test_a_committed_change_empties_the_cache_and_a_rollback_does_not(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    organization_id = await _organization(sessions)
    cache = _cache()
    cache.put("key", "value", cache.generation())
    async with sessions() as session:
        (await session.get(Organization, organization_id)).name = "renamed"  # type: ignore[union-attr]
        await session.flush()
        await session.rollback()
    assert cache.get("key") == "value"

    async with sessions() as session, session.begin():
        (await session.get(Organization, organization_id)).name = "renamed"  # type: ignore[union-attr]
    assert cache.get("key") is None

    cache.put("key", "value", cache.generation())
    async with sessions() as session, session.begin():  # a bulk UPDATE through the session counts too
        await session.execute(update(Organization).where(Organization.id == organization_id).values(name="x"))
    assert cache.get("key") is None


async def test_a_value_read_across_a_commit_is_not_stored(sessions: async_sessionmaker[AsyncSession]) -> None:
    organization_id = await _organization(sessions)
    cache = _cache()
    generation = cache.generation()  # a reader starts ...
    async with sessions() as session, session.begin():  # ... a writer commits meanwhile ...
        (await session.get(Organization, organization_id)).name = "newer"  # type: ignore[union-attr]
    cache.put("key", "what the reader saw", generation)  # ... and the reader's value may be older
    assert cache.get("key") is None
    cache.put("key", "fresh", cache.generation())
    assert cache.get("key") == "fresh"


async def test_inserts_empty_only_caches_that_watch_them(sessions: async_sessionmaker[AsyncSession]) -> None:
    watching = _cache()
    ignoring = _cache(watch_inserts=False)
    for cache in (watching, ignoring):
        cache.put("key", "value", cache.generation())
    await _organization(sessions, "another")
    assert watching.get("key") is None
    assert ignoring.get("key") == "value"


async def test_entries_expire_and_a_zero_ttl_caches_nothing() -> None:
    brief = _cache(ttl_seconds=0.05)
    brief.put("key", "value", brief.generation())
    assert brief.get("key") == "value"
    await asyncio.sleep(0.1)
    assert brief.get("key") is None

    off = _cache(ttl_seconds=0)
    off.put("key", "value", off.generation())
    assert off.get("key") is None


async def test_a_detached_copy_changes_only_once_attached(sessions: async_sessionmaker[AsyncSession]) -> None:
    organization_id = await _organization(sessions, "original")
    async with sessions() as session:
        values = row_values(await session.get(Organization, organization_id))
    copy = detached_row(Organization, values)
    assert copy.name == "original"
    async with sessions() as session, session.begin():
        mine = attached(session, copy)
        assert mine is copy
        mine.name = "changed"
    async with sessions() as session:
        assert (await session.get(Organization, organization_id)).name == "changed"  # type: ignore[union-attr]
        # When the session already holds the row, that instance is the one to change.
        held = await session.get(Organization, organization_id)
        assert attached(session, detached_row(Organization, values)) is held


def test_rows_made_from_one_snapshot_share_no_value() -> None:
    snapshot = row_values(Project(name="p", labels=["a"], room_defaults={"roles": ["moderator"]}))
    first = detached_row(Project, snapshot)
    first.labels.append("changed")
    first.room_defaults["roles"].append("changed")
    second = detached_row(Project, snapshot)
    assert second.labels == ["a"]
    assert second.room_defaults == {"roles": ["moderator"]}


async def test_a_read_only_row_refuses_changes_and_attaches_as_a_private_copy(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    organization_id = await _organization(sessions, "shared")
    async with sessions() as session:
        shared = read_only_row(Organization, row_values(await session.get(Organization, organization_id)))
    with pytest.raises(ReadOnlyRowChanged):
        shared.name = "changed in place"
    assert shared.name == "shared"
    private = detached_row(Organization, row_values(shared))
    private.name = "a private copy changes"
    async with sessions() as session, session.begin():
        mine = attached(session, shared)
        assert mine is not shared
        mine.name = "changed"
    assert shared.name == "shared"
    async with sessions() as session:
        assert (await session.get(Organization, organization_id)).name == "changed"  # type: ignore[union-attr]


async def test_get_or_load_stores_only_what_no_commit_raced(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    organization_id = await _organization(sessions)
    cache = _cache()
    loads: list[int] = []

    async def racing_load() -> str:
        loads.append(1)
        async with sessions() as session, session.begin():  # a commit while the value is read
            (await session.get(Organization, organization_id)).name = f"n{len(loads)}"  # type: ignore[union-attr]
        return "maybe stale"

    assert await cache.get_or_load("key", racing_load) == "maybe stale"
    assert await cache.get_or_load("key", racing_load) == "maybe stale"
    assert len(loads) == 2  # not stored, so loaded again

    async def failing_load() -> str:
        raise LookupError("not found")

    with pytest.raises(LookupError):
        await cache.get_or_load("other", failing_load)
    assert cache.get("other") is None

    async def plain_load() -> str:
        return "value"

    assert await cache.get_or_load("plain", plain_load) == "value"
    assert cache.get("plain") == "value"

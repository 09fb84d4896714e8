"""Room service look-ups added for the Qriib surface: open rooms, external ids, join tokens."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from conclave.access.schemas import TokenRequest
from conclave.kit.errors import Conflict, NotFound
from conclave.rooms.service import RoomService
from conclave.tenancy.service import TenancyService
from tests.factories import create_project, create_room


async def test_open_rooms_external_ids_and_join_tokens(client: httpx.AsyncClient, app: FastAPI) -> None:
    keys = await create_project(client)
    first = await create_room(client, keys, external_id="ext-1")
    second = await create_room(client, keys)
    await create_room(client, keys, scheduled_start_at="2099-01-01T00:00:00Z")
    ended = await create_room(client, keys)
    rooms: RoomService = app.state.rooms
    tenancy: TenancyService = app.state.tenancy
    async with app.state.sessionmaker() as session:
        project = await tenancy.get_project(session, keys.id)
        await rooms.end_room(session, project, ended["id"])
        await session.flush()
        assert [room.id for room in await rooms.list_open_rooms(session, keys.id)] == [
            first["id"],
            second["id"],
        ]
        assert (await rooms.get_room_by_external_id(session, keys.id, "ext-1")).id == first["id"]
        with pytest.raises(NotFound):
            await rooms.get_room_by_external_id(session, keys.id, "ext-2")
        room, issued = await rooms.issue_join_token(
            session, project, first["id"], TokenRequest(role="viewer")
        )
        assert room.id == first["id"] and issued.link.endswith(f"?token={issued.token}")
        with pytest.raises(Conflict):
            await rooms.issue_join_token(session, project, ended["id"], TokenRequest())
        await session.rollback()

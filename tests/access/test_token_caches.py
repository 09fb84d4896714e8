"""The token path reads through caches and records through the group commit: neither may let a
change go unseen, nor lose a recorded token."""

from __future__ import annotations

import asyncio

import httpx
import jwt
from fastapi import FastAPI
from sqlalchemy import delete, event, func, select

from conclave.access.models import IssuedToken
from conclave.kit.db import table_of
from conclave.rooms.models import Room
from tests.factories import create_org, create_project, create_room


async def test_every_change_is_seen_by_the_next_token(client: httpx.AsyncClient) -> None:
    org = await create_org(client)
    project = await create_project(client, org)
    await create_room(client, project, friendly_url="cached-room", roles=["moderator", "attendee"])
    token_url = "/api/v1/rooms/cached-room/token"
    first = await client.post(token_url, json={"role": "attendee"}, headers=project.headers)
    assert first.status_code == 200, first.text

    changed = await client.patch(
        "/api/v1/rooms/cached-room",
        json={"roles": ["moderator", "speaker"], "default_role": "speaker"},
        headers=project.headers,
    )
    assert changed.status_code == 200, changed.text
    refused = await client.post(token_url, json={"role": "attendee"}, headers=project.headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "unknown_role"
    assert (await client.post(token_url, json={}, headers=project.headers)).json()["token"]

    rotated = await client.post(
        f"/api/v1/projects/{project.id}/credentials/{project.api_key}/rotate", headers=org.headers
    )
    assert rotated.status_code == 200, rotated.text
    assert (await client.post(token_url, json={}, headers=project.headers)).status_code == 401
    new_headers = {"Authorization": f"Bearer {rotated.json()['secret']}"}
    token = (await client.post(token_url, json={}, headers=new_headers)).json()["token"]
    assert jwt.get_unverified_header(token)["kid"] == rotated.json()["key_id"]
    jwt.decode(token, rotated.json()["secret"], algorithms=["HS256"])

    suspended = await client.put(
        f"/api/v1/projects/{project.id}/status", json={"status": "suspended"}, headers=org.headers
    )
    assert suspended.status_code == 200, suspended.text
    assert (await client.post(token_url, json={}, headers=new_headers)).status_code == 403


async def test_a_room_deleted_behind_the_cache_gets_no_token(client: httpx.AsyncClient, app: FastAPI) -> None:
    """Another process (``conclave worker``) deleting a room is not seen by the cache; the
    token's row then breaks its foreign key, and the request answers 404 without a row."""
    project = await create_project(client)
    room = await create_room(client, project)
    token_url = f"/api/v1/rooms/{room['id']}/token"
    assert (await client.post(token_url, json={}, headers=project.headers)).status_code == 200
    async with app.state.engine.begin() as connection:  # bypasses the session, like another process
        await connection.execute(delete(table_of(Room)).where(table_of(Room).c.id == room["id"]))
    response = await client.post(token_url, json={}, headers=project.headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "room_not_found"
    async with app.state.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(IssuedToken).where(IssuedToken.room_id == room["id"])
        )
    assert count == 0


async def test_concurrent_tokens_are_all_recorded_in_shared_commits(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    project = await create_project(client)
    room = await create_room(client, project)
    token_url = f"/api/v1/rooms/{room['id']}/token"
    assert (await client.post(token_url, json={}, headers=project.headers)).status_code == 200  # warm

    commits: list[int] = []
    engine = app.state.engine.sync_engine
    count_commit = lambda _connection: commits.append(1)  # noqa: E731
    event.listen(engine, "commit", count_commit)
    try:
        responses = await asyncio.gather(
            *(client.post(token_url, json={"u": f"user {i}"}, headers=project.headers) for i in range(30))
        )
    finally:
        event.remove(engine, "commit", count_commit)
    assert [r.status_code for r in responses] == [200] * 30
    jtis = {jwt.decode(r.json()["token"], options={"verify_signature": False})["jti"] for r in responses}
    async with app.state.sessionmaker() as session:
        statement = select(IssuedToken.jti).where(IssuedToken.room_id == room["id"])
        recorded = set((await session.execute(statement)).scalars())
    assert jtis <= recorded and len(jtis) == 30
    assert len(commits) < 30, len(commits)

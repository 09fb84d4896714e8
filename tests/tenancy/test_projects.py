"""Organizations and projects: CRUD, pagination, isolation, limits and quotas."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from conclave.tenancy.models import ProjectDailyUsage
from tests.factories import create_org, create_project, create_room


async def test_admin_manages_organizations(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    assert (await client.get("/api/v1/admin/organizations")).status_code == 401
    assert (
        await client.get("/api/v1/admin/organizations", headers={"Authorization": "Bearer x"})
    ).status_code == 401
    org = await create_org(client)
    url = f"/api/v1/admin/organizations/{org.id}"
    assert (await client.get(url, headers=admin_headers)).json()["id"] == org.id
    response = await client.patch(url, json={"name": "Renamed"}, headers=admin_headers)
    assert response.json()["name"] == "Renamed"
    page = (
        await client.get("/api/v1/admin/organizations", params={"limit": 1}, headers=admin_headers)
    ).json()
    assert page["total_count"] >= 1 and len(page["data"]) == 1
    response = await client.post("/api/v1/admin/organizations", json={"name": ""}, headers=admin_headers)
    assert response.status_code == 422
    project = await create_project(client, org)
    assert (await client.delete(url, headers=admin_headers)).status_code == 204
    assert (await client.get(url, headers=admin_headers)).status_code == 404
    assert (await client.get("/api/v1/rooms", headers=project.headers)).status_code == 401


async def test_project_crud_and_isolation(client: httpx.AsyncClient) -> None:
    org = await create_org(client)
    body = {
        "name": "Main",
        "labels": ["eu"],
        "domain": "meet.example.com",
        "webhook_url": "https://example.com/hook",
        "logout_url": "https://example.com/bye",
        "features": {"allow_chat": True},
        "lock_settings": {"lock_microphone": False},
        "limits": {"max_active_rooms": 5, "max_daily_rooms": 10},
    }
    response = await client.post("/api/v1/projects", json=body, headers=org.headers)
    assert response.status_code == 200, response.text
    created = response.json()
    assert len(created["app_id"]) == 32 and created["secret_key"]
    assert created["limits"] == {
        "max_active_rooms": 5,
        "max_daily_rooms": 10,
        "max_participants_per_room": None,
        "max_api_calls_per_day": None,
    }
    url = f"/api/v1/projects/{created['id']}"
    fetched = (await client.get(url, headers=org.headers)).json()
    assert "secret_key" not in fetched and fetched["domain"] == "meet.example.com"
    assert (
        await client.post("/api/v1/projects", json={"name": "Main"}, headers=org.headers)
    ).status_code == 409

    response = await client.patch(
        url, json={"limits": {"max_active_rooms": None}, "labels": []}, headers=org.headers
    )
    assert response.json()["limits"]["max_active_rooms"] is None
    assert response.json()["limits"]["max_daily_rooms"] == 10
    for bad in (
        {"limits": {"max_active_rooms": -1}},
        {"webhook_url": "ftp://x"},
        {"name": 5},
        {"status": "gone"},
    ):
        assert (await client.patch(url, json=bad, headers=org.headers)).status_code == 422, bad

    stranger = await create_org(client)
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
    assert (await client.patch(url, json={"name": "x"}, headers=stranger.headers)).status_code == 404
    assert (await client.get("/api/v1/projects", headers=stranger.headers)).json()["total_count"] == 0
    listing = (await client.get("/api/v1/projects", headers=org.headers)).json()
    assert [p["id"] for p in listing["data"]] == [created["id"]]
    assert (await client.delete(url, headers=org.headers)).status_code == 204
    assert (await client.get(url, headers=org.headers)).status_code == 404


async def test_api_call_quota(client: httpx.AsyncClient) -> None:
    project = await create_project(client, limits={"max_api_calls_per_day": 3})
    statuses = [(await client.get("/api/v1/rooms", headers=project.headers)).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    response = await client.get("/api/v1/rooms", headers=project.headers)
    assert response.json()["error"]["code"] == "api_quota_exceeded"


async def test_failed_calls_still_count_against_quota(client: httpx.AsyncClient) -> None:
    project = await create_project(client, limits={"max_api_calls_per_day": 2})
    assert (await client.get("/api/v1/rooms/missing", headers=project.headers)).status_code == 404
    assert (await client.get("/api/v1/rooms", headers=project.headers)).status_code == 200
    assert (await client.get("/api/v1/rooms", headers=project.headers)).status_code == 429


async def test_daily_room_limit_counts_deleted_rooms(client: httpx.AsyncClient) -> None:
    org = await create_org(client)
    project = await create_project(client, org, limits={"max_daily_rooms": 2})
    room = await create_room(client, project)
    await client.delete(f"/api/v1/rooms/{room['id']}", headers=project.headers)
    await create_room(client, project)
    response = await client.post("/api/v1/rooms", json={}, headers=project.headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "max_daily_rooms_reached"
    usage = (await client.get(f"/api/v1/projects/{project.id}/usage", headers=org.headers)).json()
    assert usage["today"]["rooms_created"] == 2
    assert (await client.get("/api/v1/rooms", headers=project.headers)).json()["total_count"] == 1


async def _shards_used(app: FastAPI, project_id: str) -> set[int]:
    async with app.state.engine.connect() as connection:
        rows = await connection.execute(
            select(ProjectDailyUsage.shard).where(ProjectDailyUsage.project_id == project_id)
        )
        return set(rows.scalars())


async def test_room_counts_spread_over_shards_unless_a_limit_needs_them_exact(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """An unlimited project counts on random shards 1-7, so concurrent creations do not wait for one
    row's lock; a limited one counts on shard 0. The day's totals are the sums either way."""
    org = await create_org(client)
    unlimited = await create_project(client, org)
    await asyncio.gather(*(create_room(client, unlimited) for _ in range(20)))
    refused = await client.post("/api/v1/rooms", json={"session_length": 0}, headers=unlimited.headers)
    assert refused.status_code == 422
    shards = await _shards_used(app, unlimited.id)
    assert len(shards) > 1 and 0 not in shards  # 20 draws from 7 shards: one shard has odds 7^-19
    usage = (await client.get(f"/api/v1/projects/{unlimited.id}/usage", headers=org.headers)).json()
    assert usage["today"]["rooms_created"] == 20

    limited = await create_project(client, org, limits={"max_daily_rooms": 3})
    await asyncio.gather(*(create_room(client, limited) for _ in range(3)))
    assert (await client.post("/api/v1/rooms", json={}, headers=limited.headers)).status_code == 403
    assert await _shards_used(app, limited.id) == {0}
    usage = (await client.get(f"/api/v1/projects/{limited.id}/usage", headers=org.headers)).json()
    assert usage["today"]["rooms_created"] == 3


async def test_active_room_limit(client: httpx.AsyncClient) -> None:
    project = await create_project(client, limits={"max_active_rooms": 2})
    await create_room(client, project)
    second = await create_room(client, project)
    await create_room(client, project, scheduled_start_at="2099-01-01T00:00:00Z")  # not active until it opens
    response = await client.post("/api/v1/rooms", json={}, headers=project.headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "max_active_rooms_reached"
    await client.delete(f"/api/v1/rooms/{second['id']}", headers=project.headers)
    await create_room(client, project)


async def test_participants_per_room_limit(client: httpx.AsyncClient) -> None:
    project = await create_project(client, limits={"max_participants_per_room": 20})
    room = await create_room(client, project)
    assert room["max_participants"] == 20  # the default of 100 is capped by the limit
    response = await client.post("/api/v1/rooms", json={"max_participants": 21}, headers=project.headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "max_participants_per_room_exceeded"
    response = await client.patch(
        f"/api/v1/rooms/{room['id']}", json={"max_participants": 50}, headers=project.headers
    )
    assert response.status_code == 403
    assert (
        await client.patch("/api/v1", json={"max_participants": 50}, headers=project.headers)
    ).status_code == 403


async def test_unrelated_default_changes_ignore_participant_cap(client: httpx.AsyncClient) -> None:
    project = await create_project(client, limits={"max_participants_per_room": 20})
    defaults = (await client.get("/api/v1", headers=project.headers)).json()
    assert defaults["max_participants"] == 20
    response = await client.patch("/api/v1", json={"chat_enabled": False}, headers=project.headers)
    assert response.status_code == 200, response.text

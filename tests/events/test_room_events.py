"""The room event log: written with each state change, paginated, filtered, outliving the room."""

from __future__ import annotations

import httpx

from tests.factories import create_project, create_room


async def test_log_records_room_lifecycle(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    room = await create_room(client, project, friendly_url="logged-room", external_id="ext-1")
    for name in ("one", "two"):
        response = await client.patch(
            f"/api/v1/rooms/{room['id']}", json={"name": name}, headers=project.headers
        )
        assert response.status_code == 200

    body = (await client.get("/api/v1/rooms/logged-room/events", headers=project.headers)).json()
    assert body["total_count"] == 3
    assert [e["event"] for e in body["data"]] == ["room.updated", "room.updated", "room.created"]
    created = body["data"][-1]
    assert set(created) == {"id", "event", "timestamp", "room_id", "session_id", "data"}
    assert created["room_id"] == room["id"] and created["timestamp"].endswith("Z")
    assert created["data"]["room_id"] == room["id"] and created["data"]["external_id"] == "ext-1"

    asc = (
        await client.get(f"/api/v1/rooms/{room['id']}/events?order=asc&limit=2", headers=project.headers)
    ).json()
    assert asc["total_count"] == 3 and [e["event"] for e in asc["data"]] == ["room.created", "room.updated"]
    after = asc["data"][0]["id"]
    rest = (
        await client.get(
            f"/api/v1/rooms/{room['id']}/events",
            params={"order": "asc", "after": after},
            headers=project.headers,
        )
    ).json()
    assert [e["id"] for e in rest["data"]] == [e["id"] for e in body["data"][:2]][::-1]

    only = (
        await client.get(f"/api/v1/rooms/{room['id']}/events?type=room.created", headers=project.headers)
    ).json()
    assert only["total_count"] == 1
    family = (
        await client.get(f"/api/v1/rooms/{room['id']}/events?type=room.*", headers=project.headers)
    ).json()
    assert family["total_count"] == 3

    since = body["data"][1]["timestamp"]
    ranged = (
        await client.get(
            f"/api/v1/rooms/{room['id']}/events", params={"from": since}, headers=project.headers
        )
    ).json()
    assert ranged["total_count"] == 2
    before = (
        await client.get(f"/api/v1/rooms/{room['id']}/events", params={"to": since}, headers=project.headers)
    ).json()
    assert before["total_count"] == 1


async def test_log_survives_room_deletion(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    room = await create_room(client, project)
    assert (await client.delete(f"/api/v1/rooms/{room['id']}", headers=project.headers)).status_code == 204
    body = (await client.get(f"/api/v1/rooms/{room['id']}/events", headers=project.headers)).json()
    assert [e["event"] for e in body["data"]] == ["room.deleted", "room.created"]
    response = await client.get(f"/api/v1/rooms/{room['friendly_url']}/events", headers=project.headers)
    assert response.status_code == 404


async def test_errors(client: httpx.AsyncClient) -> None:
    project, other = await create_project(client), await create_project(client)
    room = await create_room(client, project)
    path = f"/api/v1/rooms/{room['id']}/events"
    response = await client.get(path, headers=other.headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "room_not_found"
    cases = [
        ({"type": "room.exploded"}, 422, "unknown_event_type"),
        ({"limit": 101}, 422, "validation_error"),
        ({"from": "yesterday"}, 422, "validation_error"),
        ({"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00"}, 422, "invalid_time_range"),
        ({"after": "00000000-0000-0000-0000-000000000000"}, 404, "event_not_found"),
    ]
    for params, status, code in cases:
        response = await client.get(path, params=params, headers=project.headers)
        assert response.status_code == status, (params, response.text)
        assert response.json()["error"]["code"] == code
    assert (await client.get(path)).status_code == 401


async def test_failed_request_logs_nothing(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    room = await create_room(client, project, friendly_url="first-one")
    other = await create_room(client, project)
    response = await client.patch(
        f"/api/v1/rooms/{other['id']}", json={"friendly_url": "first-one"}, headers=project.headers
    )
    assert response.status_code == 409
    body = (await client.get(f"/api/v1/rooms/{other['id']}/events", headers=project.headers)).json()
    assert [e["event"] for e in body["data"]] == ["room.created"]
    assert room["id"] != other["id"]

"""Rooms through the native API: defaults, every validation rule, pagination, isolation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import ProjectKeys, create_project, create_room, unique


@pytest.fixture
async def project(client: httpx.AsyncClient) -> ProjectKeys:
    return await create_project(client)


async def test_empty_body_uses_defaults(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    room = await create_room(client, project)
    assert room["privacy"] == "public"
    assert room["is_locked"] is False
    assert room["join_screen_enabled"] is True
    assert room["audio_on_join_enabled"] is False
    assert room["toolbar"] == {"position": "bottom", "visible": True}
    assert room["default_language"] == "en"
    assert room["default_role"] in room["roles"]
    assert room["status"] == "idle"
    assert len(room["friendly_url"]) <= 32
    assert room["room_url"] == f"http://conclave.test/meet/{room['friendly_url']}"
    assert room["created_at"].endswith("Z")
    # The answer is the stored row, defaults included (``RoomRepository.insert_new``).
    assert (await client.get(f"/api/v1/rooms/{room['id']}", headers=project.headers)).json() == room


async def test_no_body_at_all_creates_a_room(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    response = await client.post("/api/v1/rooms", headers=project.headers)
    assert response.status_code == 200, response.text


async def test_full_request_round_trips(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    body: dict[str, Any] = {
        "friendly_url": "team-standup",
        "description": "Daily standup meeting",
        "privacy": "private",
        "max_participants": 50,
        "session_length": 60,
        "default_role": "attendee",
        "roles": ["moderator", "speaker", "attendee"],
        "chat_enabled": True,
        "recordings_enabled": True,
        "watermark_enabled": True,
        "watermark_text": "Confidential - ACME",
        "default_language": "de-DE",
        "toolbar": {"position": "left", "visible": False},
        "primary_color": "#ff0066",
        "background_color": "#000",
        "logo_url": "https://example.com/logo.png",
        "kind": "audio",
        "external_id": "crm-42",
        "tags": ["sales", "weekly"],
        "metadata": {"owner": "ann"},
        "empty_timeout": 300,
        "nbf": "2030-01-01T10:00:00Z",
        "exp": "2030-01-01T12:00:00Z",
    }
    room = await create_room(client, project, **body)
    fetched = (await client.get(f"/api/v1/rooms/{room['id']}", headers=project.headers)).json()
    by_url = (await client.get("/api/v1/rooms/team-standup", headers=project.headers)).json()
    assert fetched == by_url == room
    for key, value in body.items():
        if key in ("nbf", "exp"):
            continue
        assert room[key] == value, key
    assert room["nbf"] == "2030-01-01T10:00:00Z"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"friendly_url": "x" * 33}, 422),
        ({"friendly_url": "has space"}, 422),
        ({"friendly_url": "tags"}, 422),
        ({"privacy": "secret"}, 422),
        ({"session_length": 0}, 422),
        ({"session_length": 1441}, 422),
        ({"session_length": "60"}, 422),
        ({"chat_enabled": "true"}, 422),
        ({"chat_enabled": None}, 422),
        ({"max_participants": -1}, 422),
        ({"default_role": "attendee"}, 422),
        ({"default_role": "moderator", "roles": ["attendee"]}, 422),
        ({"roles": ["attendee", "nonexistent"], "default_role": "attendee"}, 422),
        ({"watermark_text": "ab"}, 422),
        ({"watermark_text": "x" * 51}, 422),
        ({"watermark_text": "日本語テキスト"}, 422),
        ({"default_language": "fr-FR"}, 422),
        ({"primary_color": "red"}, 422),
        ({"toolbar": {"position": "middle"}}, 422),
        ({"logo_url": "javascript:alert(1)"}, 422),
        ({"unknown_field": 1}, 422),
        ({"description": "d" * 2001}, 422),
        ({"nbf": "2030-01-01T10:00:00Z", "exp": "2030-01-01T09:00:00Z"}, 422),
        ({"kind": "hologram"}, 422),
    ],
)
async def test_invalid_room_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, project: ProjectKeys, body: dict[str, Any], status: int
) -> None:
    response = await client.post("/api/v1/rooms", json=body, headers=project.headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] and error["message"]
    listing = (await client.get("/api/v1/rooms", headers=project.headers)).json()
    assert listing["total_count"] == 0


async def test_malformed_json_and_wrong_content_type(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    headers = {**project.headers, "Content-Type": "application/json"}
    response = await client.post("/api/v1/rooms", content=b'{"friendly_url":', headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    response = await client.post("/api/v1/rooms", content=b"[1, 2]", headers=headers)
    assert response.status_code == 422
    response = await client.post(
        "/api/v1/rooms", content=b"friendly_url=x", headers={**project.headers, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415


async def test_duplicates_conflict(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    await create_room(client, project, friendly_url="dup", external_id="ext-1")
    response = await client.post("/api/v1/rooms", json={"friendly_url": "dup"}, headers=project.headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "friendly_url_taken"
    response = await client.post("/api/v1/rooms", json={"external_id": "ext-1"}, headers=project.headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "external_id_taken"
    other = await create_project(client)
    await create_room(client, other, friendly_url="dup", external_id="ext-1")  # unique per project only


async def test_update_room(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    room = await create_room(client, project, friendly_url="before", tags=["a"])
    await create_room(client, project, friendly_url="taken")
    url = f"/api/v1/rooms/{room['id']}"
    response = await client.patch(
        url,
        json={"friendly_url": "after", "chat_enabled": False, "watermark_text": "Hello there", "tags": ["b"]},
        headers=project.headers,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["friendly_url"], updated["chat_enabled"], updated["tags"]) == ("after", False, ["b"])
    assert updated["watermark_text"] == "Hello there"
    response = await client.patch(url, json={"watermark_text": None}, headers=project.headers)
    assert response.json()["watermark_text"] is None

    for body in (
        {"friendly_url": "taken"},
        {"session_length": 5000},
        {"default_role": "ghost"},
        {"roles": ["moderator"]},
        {"privacy": None},
    ):
        response = await client.patch(url, json=body, headers=project.headers)
        assert response.status_code in (409, 422), (body, response.text)
    after = (await client.get(url, headers=project.headers)).json()
    assert after["friendly_url"] == "after" and after["session_length"] == updated["session_length"]
    assert after["roles"] == updated["roles"]


async def test_delete_room(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    room = await create_room(client, project)
    assert (
        await client.delete(f"/api/v1/rooms/{room['friendly_url']}", headers=project.headers)
    ).status_code == 204
    response = await client.get(f"/api/v1/rooms/{room['id']}", headers=project.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "room_not_found"
    assert (await client.delete(f"/api/v1/rooms/{room['id']}", headers=project.headers)).status_code == 404


async def test_delete_by_tags(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    a = await create_room(client, project, tags=["old"])
    b = await create_room(client, project, tags=["older", "keep"])
    c = await create_room(client, project, tags=["keep"])
    response = await client.request(
        "DELETE", "/api/v1/rooms/tags", json={"tags": ["old", "older"]}, headers=project.headers
    )
    assert response.status_code == 200, response.text
    assert sorted(response.json()["deleted"]) == sorted([a["id"], b["id"]])
    remaining = (await client.get("/api/v1/rooms", headers=project.headers)).json()
    assert [room["id"] for room in remaining["data"]] == [c["id"]]
    response = await client.request(
        "DELETE", "/api/v1/rooms/tags", json={"tags": []}, headers=project.headers
    )
    assert response.status_code == 422


async def test_pagination_offset_after_order_and_tags(
    client: httpx.AsyncClient, project: ProjectKeys
) -> None:
    ids = [
        (await create_room(client, project, tags=["even" if i % 2 == 0 else "odd"]))["id"] for i in range(7)
    ]
    headers = project.headers
    page = (await client.get("/api/v1/rooms", params={"limit": 3}, headers=headers)).json()
    assert page["total_count"] == 7
    assert [room["id"] for room in page["data"]] == ids[::-1][:3]
    page = (
        await client.get("/api/v1/rooms", params={"limit": 3, "offset": 3, "order": "asc"}, headers=headers)
    ).json()
    assert [room["id"] for room in page["data"]] == ids[3:6]

    collected: list[str] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, "order": "asc"}
        if after:
            params["after"] = after
        data = (await client.get("/api/v1/rooms", params=params, headers=headers)).json()["data"]
        if not data:
            break
        collected += [room["id"] for room in data]
        after = data[-1]["friendly_url"] if len(collected) % 4 else data[-1]["id"]
    assert collected == ids

    even = (await client.get("/api/v1/rooms", params={"tag": "even"}, headers=headers)).json()
    assert even["total_count"] == 4
    both = (await client.get("/api/v1/rooms?tag=even&tag=odd", headers=headers)).json()
    assert both["total_count"] == 7

    for params in ({"limit": 101}, {"limit": 0}, {"limit": -1}, {"offset": -5}, {"order": "up"}):
        response = await client.get("/api/v1/rooms", params=params, headers=headers)
        assert response.status_code == 422, params
    response = await client.get("/api/v1/rooms", params={"after": "no-such-room"}, headers=headers)
    assert response.status_code == 404


async def test_tenant_isolation(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    room = await create_room(client, project, friendly_url=unique("mine")[:32])
    intruder = await create_project(client)
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/token")):
        for ref in (room["id"], room["friendly_url"]):
            kwargs: dict[str, Any] = {"json": {}} if method in ("PATCH", "POST") else {}
            response = await client.request(
                method, f"/api/v1/rooms/{ref}{suffix}", headers=intruder.headers, **kwargs
            )
            assert response.status_code == 404, (method, suffix, response.text)
    assert (await client.get("/api/v1/rooms", headers=intruder.headers)).json()["total_count"] == 0
    response = await client.get("/api/v1/rooms", params={"after": room["id"]}, headers=intruder.headers)
    assert response.status_code == 404
    assert (await client.get(f"/api/v1/rooms/{room['id']}", headers=project.headers)).status_code == 200


async def test_scheduled_room_status(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    room = await create_room(client, project, scheduled_start_at="2099-01-01T09:00:00Z")
    assert room["status"] == "scheduled"
    response = await client.patch(
        f"/api/v1/rooms/{room['id']}", json={"scheduled_start_at": None}, headers=project.headers
    )
    assert response.json()["status"] == "idle"


async def test_room_lifecycle_verbs(client: httpx.AsyncClient, app: Any, project: ProjectKeys) -> None:
    from conclave.tenancy.models import Project

    scheduled = await create_room(client, project, scheduled_start_at="2099-01-01T09:00:00Z")
    rooms = app.state.rooms
    async with app.state.sessionmaker() as session:
        owner = await session.get(Project, project.id)
        assert (await rooms.open_scheduled_room(session, owner, scheduled["id"])).status == "idle"
        assert (await rooms.end_room(session, owner, scheduled["id"])).status == "ended"
        assert (await rooms.reopen_room(session, owner, scheduled["id"])).status == "idle"
        await session.commit()
    fetched = (await client.get(f"/api/v1/rooms/{scheduled['id']}", headers=project.headers)).json()
    assert fetched["status"] == "idle"


async def test_credentials_are_checked_before_the_body(
    client: httpx.AsyncClient, project: ProjectKeys
) -> None:
    room = await create_room(client, project)
    invalid = [("/api/v1/rooms", {"kind": "hologram"}), (f"/api/v1/rooms/{room['id']}/token", {"u": 5})]
    for path, body in invalid:
        for headers in ({"Authorization": "Bearer not-a-secret"}, {}):
            response = await client.post(path, json=body, headers=headers)
            assert response.status_code == 401, response.text
        response = await client.post(path, json=body, headers=project.headers)
        assert response.status_code == 422, response.text

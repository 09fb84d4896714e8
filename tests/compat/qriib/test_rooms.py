"""Qriib room routes answered from Conclave's rooms, tokens and limits."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import jwt

from tests.compat.qriib.conftest import Tenant
from tests.compat.qriib.helpers import room_body
from tests.conftest import PUBLIC_URL
from tests.factories import unique


def _claims(link: str) -> dict[str, Any]:
    token = parse_qs(urlparse(link).query)["token"][0]
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def _native_room(client: httpx.AsyncClient, tenant: Tenant, room_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/rooms/{room_id}", headers=tenant.project.headers)
    assert response.status_code == 200, response.text
    room: dict[str, Any] = response.json()
    return room


async def _quick(tenant: Tenant, kind: str = "video", **overrides: Any) -> httpx.Response:
    project_id = overrides.pop("project_id", tenant.project.id)
    body = room_body(project_id, overrides.pop("client_room_id", unique("client")), **overrides)
    return await tenant.as_project.post(f"/api/v4/rooms/create_quick_{kind}_room", body)


async def test_quick_rooms_store_the_qriib_fields(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for kind in ("audio", "video"):
        response = await _quick(tenant, kind, client_room_id=f"room-{kind}")
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] is True
        assert body["client_room_id"] == f"room-{kind}"
        assert (body["max_participants"], body["empty_timeout"]) == (20, 300)
        assert body["metadata"] == {"room_title": "Test room", "welcome_message": "Welcome to room"}
        assert body["final_link"].startswith(f"{PUBLIC_URL}/meet/")
        claims = _claims(body["final_link"])
        assert claims["role"] == "moderator" and claims["u"] == "hisham" and claims["ud"] == "hisham"
        assert claims["room_id"] == body["room_id"]
        room = await _native_room(client, tenant, body["room_id"])
        assert room["kind"] == kind and room["external_id"] == f"room-{kind}"
        assert room["name"] == "Test room" and room["status"] == "idle"
        assert room["metadata"] == {
            "room_title": "Test room",
            "welcome_message": "Welcome to room",
            "qriib": {"name": "hisham", "moderator_id": "hisham"},
        }


async def test_duplicate_client_room_id(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await _quick(tenant, client_room_id="dup")).status_code == 201
    again = await _quick(tenant, "audio", client_room_id="dup")
    assert (again.status_code, again.json()) == (
        400,
        {"message": "Client room ID already exists", "status": False},
    )
    rooms = await client.get("/api/v1/rooms", headers=tenant.project.headers)
    assert rooms.json()["total_count"] == 1


async def test_room_validation(client: httpx.AsyncClient, tenant: Tenant) -> None:
    cases: list[tuple[dict[str, Any], dict[str, str]]] = [
        ({"empty_timeout": "2001"}, {"empty_timeout": "cant exceed 2000"}),
        ({"empty_timeout": 2001}, {"empty_timeout": "cant exceed 2000"}),
        ({"empty_timeout": "soon"}, {"empty_timeout": "Must be an integer"}),
        ({"empty_timeout": 0}, {"empty_timeout": "Must be greater than 0"}),
        ({"max_participants": True}, {"max_participants": "Must be an integer"}),
        ({"max_participants": "0"}, {"max_participants": "Must be greater than 0"}),
        ({"name": 5}, {"name": "Must be a string"}),
        ({"client_room_id": ""}, {"client_room_id": "Must not be empty"}),
        ({"metadata": "x"}, {"metadata": "Must be an object"}),
        ({"metadata": {"room_title": 1}}, {"metadata.room_title": "Must be a string"}),
    ]
    for overrides, errors in cases:
        response = await _quick(tenant, **overrides)
        assert (response.status_code, response.json()) == (400, {"errors": errors}), overrides
    body = room_body(tenant.project.id, "missing")
    del body["moderator_id"]
    response = await tenant.as_project.post("/api/v4/rooms/create_quick_video_room", body)
    assert response.json() == {"errors": {"moderator_id": "The field 'moderator_id' is required."}}
    not_object = await tenant.as_project.post("/api/v4/rooms/create_quick_video_room", "[1]")
    assert (not_object.status_code, not_object.json()) == (400, {"errors": {"body": "Must be a JSON object"}})
    other = await _quick(tenant, project_id="00000000-0000-4000-8000-000000000000")
    assert (other.status_code, other.json()) == (404, {"error": "Project not found"})
    assert (await client.get("/api/v1/rooms", headers=tenant.project.headers)).json()["total_count"] == 0


async def test_project_limits_apply(client: httpx.AsyncClient, tenant: Tenant) -> None:
    limits = {"limits": {"max_active_rooms": 1, "max_participants_per_room": 10}}
    response = await client.patch(
        f"/api/v1/projects/{tenant.project.id}", json=limits, headers=tenant.org.headers
    )
    assert response.status_code == 200, response.text
    too_big = await _quick(tenant, max_participants=11)
    assert too_big.status_code == 403
    assert too_big.json() == {
        "message": "max_participants may not exceed the project's limit of 10",
        "status": False,
    }
    assert (await _quick(tenant, max_participants=10)).status_code == 201
    second = await _quick(tenant, max_participants=5)
    assert (second.status_code, second.json()["status"]) == (403, False)
    assert "at most 1 active rooms" in second.json()["message"]
    assert (await client.get("/api/v1/rooms", headers=tenant.project.headers)).json()["total_count"] == 1


async def test_scheduled_rooms_and_starting_them(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = {**room_body(tenant.project.id, "later"), "start_at": "2099-12-31T06:16"}
    del body["name"]  # the live bodies of the collection send no name
    response = await tenant.as_project.post("/api/v4/rooms/create_schedule_audio_room", body)
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["scheduled_time"] == "2099-12-31T06:16:00Z" and created["name"] is None
    room_id = created["room_id"]
    status = await tenant.as_project.get(f"/api/v4/rooms/room_status?room_id={room_id}")
    assert status.json() == {"status": "scheduled", "room_id": room_id}
    native = await _native_room(client, tenant, room_id)
    assert native["kind"] == "audio" and native["scheduled_start_at"] == "2099-12-31T06:16:00Z"

    # The saved examples' field name, with a zone.
    example = {**room_body(tenant.project.id, "client123"), "scheduled_time": "2099-06-01T10:00:00Z"}
    video = await tenant.as_project.post("/api/v4/rooms/create_schedule_video_room", example)
    assert video.status_code == 200 and video.json()["scheduled_time"] == "2099-06-01T10:00:00Z"

    # start_schedule_room by room id, and by client room id as its description says.
    started = await tenant.as_project.post(
        "/api/v4/rooms/start_schedule_room", {"room_id": room_id, "name": "x"}
    )
    assert started.json() == {"room_id": room_id, "started": True, "status": "active"}
    by_client = await tenant.as_project.post("/api/v4/rooms/start_schedule_room", {"room_id": "client123"})
    assert by_client.json()["room_id"] == video.json()["room_id"] and by_client.json()["started"] is True
    assert (await _native_room(client, tenant, room_id))["status"] == "idle"

    missing = await tenant.as_project.post("/api/v4/rooms/start_schedule_room", {})
    assert missing.json() == {"errors": {"room_id": "The field 'room_id' is required."}}
    unknown = await tenant.as_project.post("/api/v4/rooms/start_schedule_room", {"room_id": "nope"})
    assert (unknown.status_code, unknown.json()) == (404, {"error": "Room not found"})


async def test_scheduled_room_validation(tenant: Tenant) -> None:
    body = room_body(tenant.project.id, unique("c"))
    no_start = await tenant.as_project.post("/api/v4/rooms/create_schedule_video_room", body)
    assert no_start.json() == {"errors": {"start_at": "The field 'start_at' is required."}}
    bad = await tenant.as_project.post(
        "/api/v4/rooms/create_schedule_video_room", {**body, "start_at": "tomorrow"}
    )
    assert bad.json() == {"errors": {"start_at": "Must be a UTC date and time, e.g. 2025-12-31T06:16"}}
    # The collection's live body carries a JavaScript comment: not JSON, a 400 rather than a 500.
    raw = '{\r\n  "client_room_id":"das", //must be unique\r\n  "moderator_id":"hisham"\r\n}'
    commented = await tenant.as_project.post("/api/v4/rooms/create_schedule_video_room", raw)
    assert commented.status_code == 400 and commented.json()["error"] == "Bad Request"


async def test_reading_rooms(tenant: Tenant) -> None:
    first = (await _quick(tenant, client_room_id="first")).json()["room_id"]
    second = (await _quick(tenant, "audio", client_room_id="second")).json()["room_id"]
    info = await tenant.as_project.get(f"/api/v3/rooms/get_active_room_info?room_id={first}")
    room = info.json()["room"]
    assert room["room_id"] == first and room["status"] == "active" and room["client_room_id"] == "first"
    assert room["moderator_id"] == "hisham" and room["room_type"] == "video"
    assert room["metadata"] == {"room_title": "Test room", "welcome_message": "Welcome to room"}
    missing = await tenant.as_project.get("/api/v4/rooms/get_active_room_info")
    assert (missing.status_code, missing.json()) == (
        400,
        {"errors": {"room_id": "The field 'room_id' is required."}},
    )

    active = await tenant.as_project.get("/api/v4/rooms/get_active_rooms_info")
    assert [r["room_id"] for r in active.json()["rooms"]] == [first, second]

    past = await tenant.as_project.post(
        "/api/v3/rooms/fetch_past_rooms",
        {"project_id": tenant.project.id, "from": 0, "limit": 10, "order_by": "DESC"},
    )
    assert [r["room_id"] for r in past.json()["rooms"]] == [second, first] and past.json()["total"] == 2
    page = await tenant.as_project.post(
        "/api/v4/rooms/fetch_past_rooms",
        {"project_id": tenant.project.id, "from": 1, "limit": 1, "order_by": "asc"},
    )
    assert [r["room_id"] for r in page.json()["rooms"]] == [second]
    bad = await tenant.as_project.post(
        "/api/v4/rooms/fetch_past_rooms",
        {"project_id": tenant.project.id, "limit": 0, "order_by": "sideways"},
    )
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"limit"}
    bad_order = await tenant.as_project.post(
        "/api/v4/rooms/fetch_past_rooms", {"project_id": tenant.project.id, "order_by": "sideways"}
    )
    assert bad_order.json() == {"errors": {"order_by": "Must be ASC or DESC"}}


async def test_join_invite_and_end(client: httpx.AsyncClient, tenant: Tenant) -> None:
    room_id = (await _quick(tenant)).json()["room_id"]
    roles = {"host": "moderator", "moderator": "moderator", "presenter": "speaker", "attendee": "attendee"}
    for qriib_role, conclave_role in roles.items():
        body = {
            "room_id": room_id,
            "user_info": {
                "name": "Your name",
                "user_id": "u-1",
                "is_admin": False,
                "is_hidden": False,
                "user_metadata": {"role": qriib_role},
            },
        }
        response = await tenant.as_project.post("/api/v4/rooms/join_room", body)
        assert response.status_code == 200, response.text
        joined = response.json()
        assert joined["joined"] is True and joined["role"] == conclave_role
        claims = _claims(joined["final_link"])
        assert (claims["role"], claims["u"], claims["ud"], claims["room_id"]) == (
            conclave_role,
            "Your name",
            "u-1",
            room_id,
        )
    admin = await tenant.as_project.post(
        "/api/v4/rooms/join_room", {"room_id": room_id, "user_info": {"name": "Boss", "is_admin": True}}
    )
    assert admin.json()["role"] == "moderator"
    bad_role = await tenant.as_project.post(
        "/api/v4/rooms/join_room", {"room_id": room_id, "user_info": {"user_metadata": {"role": "king"}}}
    )
    assert bad_role.json() == {
        "errors": {"user_info.user_metadata.role": "Must be one of host, moderator, presenter, attendee"}
    }
    bad_bool = await tenant.as_project.post(
        "/api/v4/rooms/join_room", {"room_id": room_id, "user_info": {"is_hidden": "no"}}
    )
    assert bad_bool.json() == {"errors": {"user_info.is_hidden": "Must be a bool"}}

    for qriib_role, conclave_role in (("admin", "moderator"), ("viewer", "viewer")):
        invite = await tenant.as_project.post(
            "/api/v4/rooms/create_invitation_link", {"room_id": room_id, "role": qriib_role}
        )
        assert invite.status_code == 200, invite.text
        assert _claims(invite.json()["invitation_link"])["role"] == conclave_role
    bad_invite = await tenant.as_project.post(
        "/api/v4/rooms/create_invitation_link", {"room_id": room_id, "role": "x"}
    )
    assert bad_invite.json() == {"errors": {"role": "Must be admin or viewer"}}

    ended = await tenant.as_project.post("/api/v4/rooms/end_room", {"room_id": room_id})
    assert ended.json() == {"ended": True, "room_id": room_id}
    assert (await _native_room(client, tenant, room_id))["status"] == "ended"
    status = await tenant.as_project.get(f"/api/v4/rooms/room_status?room_id={room_id}")
    assert status.json()["status"] == "ended"
    assert (await tenant.as_project.get("/api/v4/rooms/get_active_rooms_info")).json() == {"rooms": []}
    late = await tenant.as_project.post("/api/v4/rooms/join_room", {"room_id": room_id, "user_info": {}})
    assert (late.status_code, late.json()) == (409, {"message": "the room has ended", "status": False})
    unknown = await tenant.as_project.post("/api/v4/rooms/end_room", {"room_id": "missing"})
    assert (unknown.status_code, unknown.json()) == (404, {"error": "Room not found"})


async def test_other_projects_rooms_are_not_found(client: httpx.AsyncClient, tenant: Tenant) -> None:
    from tests.compat.qriib.helpers import QriibClient
    from tests.factories import create_project

    other = await create_project(client, tenant.org)
    room_id = (await _quick(tenant)).json()["room_id"]
    stranger = QriibClient(client, other.api_key, other.secret_key)
    response = await stranger.get(f"/api/v4/rooms/room_status?room_id={room_id}")
    assert (response.status_code, response.json()) == (404, {"error": "Room not found"})
    ended = await stranger.post("/api/v4/rooms/end_room", {"room_id": room_id})
    assert ended.status_code == 404
    assert (await _native_room(client, tenant, room_id))["status"] == "idle"

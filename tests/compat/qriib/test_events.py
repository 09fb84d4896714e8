"""``GET /api/v4/webhook/get_room_events/{room_id}`` reads Conclave's room event log."""

from __future__ import annotations

import httpx

from tests.compat.qriib.conftest import Tenant
from tests.compat.qriib.helpers import room_body


async def test_room_events_come_from_the_event_log(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await tenant.as_project.post(
        "/api/v4/rooms/create_quick_video_room", room_body(tenant.project.id, "evented")
    )
    room_id = created.json()["room_id"]
    assert (await tenant.as_project.post("/api/v4/rooms/end_room", {"room_id": room_id})).status_code == 200
    response = await tenant.as_project.get(f"/api/v4/webhook/get_room_events/{room_id}")
    assert response.status_code == 200, response.text
    events = response.json()["events"]
    assert [event["event"] for event in events] == ["room.created", "room.ended"]
    assert all(event["room_id"] == room_id and event["timestamp"].endswith("Z") for event in events)
    assert events[0]["data"]["external_id"] == "evented"

    # The same log the native API shows.
    native = await client.get(f"/api/v1/rooms/{room_id}/events?order=asc", headers=tenant.project.headers)
    assert [e["id"] for e in native.json()["data"]] == [e["event_id"] for e in events]

    missing = await tenant.as_project.get(
        "/api/v4/webhook/get_room_events/00000000-0000-4000-8000-000000000000"
    )
    assert (missing.status_code, missing.json()) == (404, {"error": "Room not found"})

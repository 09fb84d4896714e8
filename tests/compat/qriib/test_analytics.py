"""``GET /api/v4/analytics/get_analytics`` (and its v3 alias), computed from the room event log.

Participants are admitted through ``SessionService.enter`` as the signalling layer does
(``tests.content.join``); chat, hands, mutes and polls go through their services, so every
series comes from events Conclave really logged.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from conclave.kit.transaction import transaction
from tests.compat.qriib.conftest import Tenant
from tests.compat.qriib.helpers import room_body
from tests.content import join


def _series(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {event["name"]: [point["value"] for point in event["values"]] for event in events}


async def test_analytics_come_from_the_room_event_log(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await tenant.as_project.post(
        "/api/v4/rooms/create_quick_video_room", room_body(tenant.project.id, "analysed")
    )
    room_id = created.json()["room_id"]
    host = await join(app, tenant.project, room_id, name="hisham", external_id="hisham-1", role="moderator")
    guest = await join(app, tenant.project, room_id, name="Bob")
    sessions, chat, polls = app.state.sessions, app.state.chat, app.state.polls
    project_id = tenant.project.id
    async with transaction(app.state.sessionmaker, app.state.bus) as db:
        await sessions.set_muted(db, project_id, host.participant_id, audio=True, video=None)
        await sessions.set_muted(db, project_id, host.participant_id, audio=False, video=None)
        await sessions.set_hand(db, project_id, guest.participant_id, True)
        await sessions.set_hand(db, project_id, guest.participant_id, False)
        sender = await sessions.get_participant(db, project_id, host.participant_id)
        public = await chat.post_from_participant(db, sender, "hello", to=None)
        private = await chat.post_from_participant(db, sender, "psst", to=guest.participant_id)
    poll = await client.post(
        f"/api/v1/rooms/{room_id}/polls",
        json={"question": "Lunch?", "options": [{"label": "yes"}, {"label": "no"}]},
        headers=tenant.project.headers,
    )
    poll_id = poll.json()["id"]
    launched = await client.post(
        f"/api/v1/rooms/{room_id}/polls/{poll_id}/launch", headers=tenant.project.headers
    )
    assert launched.status_code == 200, launched.text
    async with transaction(app.state.sessionmaker, app.state.bus) as db:
        running = await polls.poll_in_room(db, project_id, room_id, poll_id)
        option = poll.json()["options"][0]["id"]
        await polls.vote(
            db,
            running,
            participant_id=guest.participant_id,
            session_id=guest.session_id,
            option_ids=[option],
            text=None,
        )
    ended_poll = await client.post(
        f"/api/v1/rooms/{room_id}/polls/{poll_id}/end", headers=tenant.project.headers
    )
    assert ended_poll.status_code == 200, ended_poll.text
    async with transaction(app.state.sessionmaker, app.state.bus) as db:
        await sessions.leave(db, project_id, guest.participant_id, "left")
        await sessions.leave(db, project_id, host.participant_id, "left")
    assert (await tenant.as_project.post("/api/v4/rooms/end_room", {"room_id": room_id})).status_code == 200

    response = await tenant.as_project.get(f"/api/v3/analytics/get_analytics?room_id={room_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] is True and body["data"]["room_id"] == room_id
    room = body["data"]["data"]["room"]
    assert "enabled_e2ee" not in room  # no Conclave source: left out
    assert room["room_id"] == room_id and room["room_title"] == "Test room"
    assert room["room_total_users"] == "2"
    creation, ended, duration = (
        int(room["room_creation"]),
        int(room["room_ended"]),
        int(room["room_duration"]),
    )
    assert ended >= creation and duration == ended - creation
    room_series = _series(room["events"])
    assert list(room_series) == ["poll_added", "poll_ended", "recording_status"]
    assert room_series["poll_added"] == [poll_id] and room_series["poll_ended"] == [poll_id]
    assert room_series["recording_status"] == []

    users = {user["user_id"]: user for user in body["data"]["data"]["users"]}
    assert set(users) == {"hisham-1", guest.participant_id}  # no external id: the participant id
    hisham, bob = users["hisham-1"], users[guest.participant_id]
    assert (hisham["name"], hisham["is_admin"], bob["name"], bob["is_admin"]) == (
        "hisham",
        True,
        "Bob",
        False,
    )
    mine = _series(hisham["events"])
    assert list(mine) == [
        "mic_status",
        "webcam_status",
        "joined",
        "public_chat",
        "raise_hand",
        "left",
        "private_chat",
        "voted_poll",
    ]
    assert mine["mic_status"] == ["ANALYTICS_STATUS_ENDED", "ANALYTICS_STATUS_STARTED"]
    assert mine["webcam_status"] == [] and mine["raise_hand"] == []
    assert mine["public_chat"] == [public.id] and mine["private_chat"] == [private.id]
    assert len(mine["joined"]) == len(mine["left"]) == 1
    assert int(mine["joined"][0]) % 1000 == 0  # epoch milliseconds of the second, as captured
    theirs = _series(bob["events"])
    assert theirs["raise_hand"] == ["ANALYTICS_STATUS_STARTED", "ANALYTICS_STATUS_ENDED"]
    assert theirs["voted_poll"] == [poll_id] and theirs["public_chat"] == []
    every_point = [p for user in users.values() for event in user["events"] for p in event["values"]]
    assert all(p["time"].isdigit() and len(p["time"]) == 13 for p in every_point)
    totals = [(e["total"], len(e["values"])) for user in users.values() for e in user["events"]]
    assert all(total == count for total, count in totals)

    # v4 answers the same; an open room has no end yet.
    assert (await tenant.as_project.get(f"/api/v4/analytics/get_analytics?room_id={room_id}")).json() == body
    fresh = await tenant.as_project.post(
        "/api/v4/rooms/create_quick_audio_room", room_body(tenant.project.id, "analysed-open")
    )
    open_room = (
        await tenant.as_project.get(f"/api/v4/analytics/get_analytics?room_id={fresh.json()['room_id']}")
    ).json()["data"]["data"]
    assert open_room["users"] == [] and open_room["room"]["room_total_users"] == "0"
    assert open_room["room"]["room_ended"] is None and open_room["room"]["room_duration"] is None


async def test_analytics_errors(tenant: Tenant) -> None:
    missing = await tenant.as_project.get(
        "/api/v4/analytics/get_analytics?room_id=00000000-0000-4000-8000-000000000000"
    )
    assert (missing.status_code, missing.json()) == (404, {"error": "Room not found"})
    no_room = await tenant.as_project.get("/api/v4/analytics/get_analytics")
    assert (no_room.status_code, no_room.json()) == (
        400,
        {"errors": {"room_id": "The field 'room_id' is required."}},
    )
    as_org = await tenant.as_org.get("/api/v3/analytics/get_analytics?room_id=x")
    assert (as_org.status_code, as_org.json()) == (401, {"error": "Invalid or missing api_key"})
    forged = await tenant.as_project.client.get(
        "/api/v4/analytics/get_analytics?room_id=x",
        headers={"key": tenant.project.api_key, "hash-signature": "bm9wZQ=="},
    )
    assert (forged.status_code, forged.json()) == (401, {"error": "Invalid signature"})

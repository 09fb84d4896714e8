"""Presence: sessions start and end from real joins, moderation, resume, REST views."""

from __future__ import annotations

import asyncio

from tests.realtime.conftest import Api, Client, Server


async def test_session_lifecycle_and_rest_views(server: Server, api: Api) -> None:
    room = await api.room(empty_timeout=1)
    ann = await Client.connect(
        server, f"token={await api.token(room['id'], u='Ann', ud='ann-1', role='moderator')}"
    )
    joined = await ann.join()
    session_id = joined["session_id"]
    bob = await Client.connect(server, f"token={await api.token(room['id'], u='Bob', ud='bob-1')}")
    assert [p["name"] for p in (await bob.join())["participants"]] == ["Ann"]
    assert (await ann.expect("participant_joined"))["participant"]["name"] == "Bob"

    assert (await api.get(f"/api/v1/rooms/{room['friendly_url']}/live/count"))["live_participants"] == 2
    assert (await api.get("/api/v1/live/count"))["live_participants"] >= 2
    session = await api.get(f"/api/v1/sessions/{session_id}")
    assert session["status"] == "live" and session["room_id"] == room["id"]
    listed = await api.get(f"/api/v1/sessions?room={room['id']}&status=live")
    assert [s["id"] for s in listed["data"]] == [session_id]
    people = await api.get(f"/api/v1/sessions/{session_id}/participants")
    assert {p["name"]: p["status"] for p in people["data"]} == {"Ann": "joined", "Bob": "joined"}
    bob_id = next(p["id"] for p in people["data"] if p["name"] == "Bob")
    assert (await api.get(f"/api/v1/participants/{bob_id}"))["external_id"] == "bob-1"
    assert (await api.get("/api/v1/participants?external_id=bob-1"))["total_count"] == 1

    await ann.send(type="mute", audio=True)
    updated = await bob.expect("participant_updated")
    assert updated["participant"]["audio_muted"] is True

    await bob.send(type="leave")
    assert (await ann.expect("participant_left"))["reason"] == "left"
    await ann.send(type="leave")
    await asyncio.sleep(2.5)
    ended = await api.get(f"/api/v1/sessions/{session_id}")
    assert (ended["status"], ended["end_reason"]) == ("ended", "empty_timeout")
    stats = await api.get(f"/api/v1/sessions/{session_id}/statistics")
    assert (stats["participants_total"], stats["peak_participants"], stats["participants_live"]) == (2, 2, 0)
    history = await api.get(f"/api/v1/participants/{bob_id}/sessions")
    assert [s["id"] for s in history["data"]] == [session_id]
    assert (await api.get(f"/api/v1/rooms/{room['id']}"))["status"] == "idle"


async def test_moderation_over_socket_and_rest(server: Server, api: Api) -> None:
    room = await api.room()
    mod = await Client.connect(server, f"token={await api.token(room['id'], u='Mod', role='moderator')}")
    session_id = (await mod.join())["session_id"]
    target = await Client.connect(server, f"token={await api.token(room['id'], u='Target')}")
    target_id = (await target.join())["participant"]["id"]

    await mod.send(type="moderate", action="mute", participant_id=target_id, audio=True, id=7)
    assert (await target.expect("participant_updated"))["moderated"] is True
    response = await api.post(f"/api/v1/rooms/{room['id']}/participants/{target_id}/mute", {"video": True})
    assert response.status_code == 200 and response.json()["video_muted"] is True

    await mod.send(type="moderate", action="kick", participant_id=target_id)
    assert (await target.expect("kicked"))["type"] == "kicked"
    assert await target.closed_with() == 4410
    response = await api.post(f"/api/v1/rooms/{room['id']}/participants/{target_id}/kick")
    assert response.status_code == 409  # already gone

    watcher = await Client.connect(server, f"token={await api.token(room['id'], u='Watcher')}")
    await watcher.join()
    response = await api.post(f"/api/v1/sessions/{session_id}/end")
    assert response.status_code == 200 and response.json()["end_reason"] == "ended_by_api"
    for client in (mod, watcher):
        assert (await client.expect("session_ended"))["reason"] == "ended_by_api"
        assert await client.closed_with() == 4411
    assert (await api.post(f"/api/v1/sessions/{session_id}/end")).status_code == 409


async def test_resume_within_grace_counts_once(server: Server, api: Api) -> None:
    room = await api.room()
    keeper = await Client.connect(server, f"token={await api.token(room['id'], u='Keeper')}")
    await keeper.join()
    flaky = await Client.connect(server, f"token={await api.token(room['id'], u='Flaky')}")
    first = await flaky.join()
    flaky.connection.transport.abort()  # a network drop: no close frame, no 'leave'
    await asyncio.sleep(0.3)
    assert (await api.get(f"/api/v1/rooms/{room['id']}/live/count"))["live_participants"] == 2

    again = await Client.connect(server, f"token={await api.token(room['id'], u='Flaky')}")
    resumed = await again.join(resume=first["resume_token"])
    assert resumed["resumed"] is True and resumed["participant"]["id"] == first["participant"]["id"]
    assert (await api.get(f"/api/v1/rooms/{room['id']}/live/count"))["live_participants"] == 2

    await again.close()  # dropped again, and this time nobody comes back
    left = await keeper.expect("participant_left", within=10)
    assert (left["participant_id"], left["reason"]) == (first["participant"]["id"], "disconnected")
    assert (await api.get(f"/api/v1/rooms/{room['id']}/live/count"))["live_participants"] == 1
    stale = await Client.connect(server, f"token={await api.token(room['id'], u='Flaky')}")
    assert (await stale.join(resume=first["resume_token"]))["code"] == "resume_expired"
    await keeper.send(type="leave")

"""Starting and stopping: the REST API, moderators over the realtime protocol, automatic starts.

Bare protocol clients (no media) are enough here: a recording nobody published into fails
with its error kept, which is itself part of the contract.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tests.realtime.conftest import ADMIN, Api, Client, Server
from tests.recordings.conftest import wait_status


async def _api_with_features(server: Server, features: dict[str, Any]) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.base, timeout=15) as http:
        admin = {"Authorization": f"Bearer {ADMIN}"}
        org = (await http.post("/api/v1/admin/organizations", json={"name": "rec"}, headers=admin)).json()
        project = (
            await http.post(
                "/api/v1/projects",
                json={"name": "rec", "features": features},
                headers={"Authorization": f"Bearer {org['secret']}"},
            )
        ).json()
        yield Api(http=http, headers={"Authorization": f"Bearer {project['secret_key']}"})


async def _events(api: Api, room: str, kind: str) -> list[dict[str, Any]]:
    page = await api.get(f"/api/v1/rooms/{room}/events?type={kind}&order=asc")
    events: list[dict[str, Any]] = page["data"]
    return events


async def test_rest_rules_and_a_recording_without_media_fails_with_its_error(
    server: Server, api: Api
) -> None:
    async with asyncio.timeout(60):
        plain = (await api.room())["friendly_url"]
        refused = await api.post(f"/api/v1/rooms/{plain}/recordings/start")
        assert (refused.status_code, refused.json()["error"]["code"]) == (409, "recordings_disabled")

        room = (await api.room(recordings_enabled=True))["friendly_url"]
        idle = await api.post(f"/api/v1/rooms/{room}/recordings/start")
        assert (idle.status_code, idle.json()["error"]["code"]) == (409, "no_live_session")
        assert (await api.post(f"/api/v1/rooms/{room}/recordings/start", {"mode": "3d"})).status_code == 422

        client = await Client.connect(server, f"token={await api.token(room, u='Ann', role='moderator')}")
        joined = await client.join()
        assert joined["recording"] is None
        started = await api.post(f"/api/v1/rooms/{room}/recordings/start", {"mode": "individual"})
        assert started.status_code == 200, started.text
        recording = started.json()
        assert (recording["mode"], recording["status"], recording["started_by"]) == (
            "individual",
            "in_progress",
            "api",
        )
        assert (await client.expect("recording_started"))["recording_id"] == recording["id"]
        again = await api.post(f"/api/v1/rooms/{room}/recordings/start")
        assert (again.status_code, again.json()["error"]["code"]) == (409, "recording_in_progress")
        busy = await api.http.delete(f"/api/v1/recordings/{recording['id']}", headers=api.headers)
        assert busy.status_code == 409

        stopped = await api.post(f"/api/v1/rooms/{room}/recordings/stop")
        assert stopped.json()["status"] == "processing"
        assert (await client.expect("recording_stopped"))["recording_id"] == recording["id"]
        nothing = await api.post(f"/api/v1/rooms/{room}/recordings/stop")
        assert (nothing.status_code, nothing.json()["error"]["code"]) == (409, "no_recording_in_progress")

        failed = await wait_status(api, recording["id"], {"ready", "failed"}, within=30)
        assert failed["status"] == "failed" and "no media" in failed["error"]
        download = await api.http.get(f"/api/v1/recordings/{recording['id']}/download", headers=api.headers)
        assert download.status_code == 409
        kinds = [e["event"] for e in await _events(api, room, "recording.*")]
        assert kinds == ["recording.started", "recording.stopped", "recording.failed"]
        await client.send(type="leave")


async def test_moderators_start_and_stop_over_the_realtime_protocol(server: Server, api: Api) -> None:
    async with asyncio.timeout(60):
        room = (await api.room(recordings_enabled=True))["friendly_url"]
        host = await Client.connect(server, f"token={await api.token(room, u='Host', role='moderator')}")
        await host.join()
        guest = await Client.connect(server, f"token={await api.token(room, u='Guest', role='attendee')}")
        await guest.join()

        await guest.send(type="recording", id=1, action="start")
        refused = await guest.expect("error")
        assert (refused["code"], refused["reply_to"]) == ("not_allowed", 1)

        await host.send(type="recording", id=2, action="start", mode="audio")
        reply = await host.expect("ok")
        assert reply["reply_to"] == 2 and reply["recording"]["mode"] == "audio"
        recording_id = reply["recording"]["recording_id"]
        assert (await guest.expect("recording_started"))["recording_id"] == recording_id
        late = await Client.connect(server, f"token={await api.token(room, u='Late', role='viewer')}")
        assert (await late.join())["recording"] == {"recording_id": recording_id, "mode": "audio"}

        await host.send(type="recording", id=3, action="start")
        assert (await host.expect("error"))["code"] == "recording_in_progress"
        await host.send(type="recording", id=4, action="stop")
        assert (await host.expect("ok"))["recording"]["status"] == "processing"
        assert (await late.expect("recording_stopped"))["recording_id"] == recording_id
        recording = await api.get(f"/api/v1/recordings/{recording_id}")
        assert recording["started_by"] == host.joined["participant"]["id"]
        for client in (host, guest, late):
            await client.send(type="leave")


async def test_auto_recording_starts_with_the_session_and_stops_with_it(server: Server) -> None:
    async with asyncio.timeout(60):
        async for api in _api_with_features(
            server, {"recording_features": {"enable_auto_cloud_recording": True}}
        ):
            off = (await api.room())["friendly_url"]
            room = (await api.room(recordings_enabled=True))["friendly_url"]
            client = await Client.connect(server, f"token={await api.token(room, u='Ann')}")
            joined = await client.join()
            # The session's first participant may be welcomed before the automatic start
            # lands; then the recording_started event tells it.
            running = joined["recording"] or await client.expect("recording_started")
            assert running["mode"] == "composite"
            other = await Client.connect(server, f"token={await api.token(off, u='Bo')}")
            assert (await other.join())["recording"] is None  # recordings_enabled is off there

            listed = await api.get(f"/api/v1/recordings?room={room}")
            assert listed["total_count"] == 1
            recording = listed["data"][0]
            assert (recording["started_by"], recording["session_id"]) == ("auto", joined["session_id"])

            await client.send(type="leave")
            await other.send(type="leave")
            # The session ends after the empty timeout (2 s here); the recording goes to processing.
            done = await wait_status(api, recording["id"], {"ready", "failed"}, within=30)
            assert done["stopped_at"] is not None
            assert [e["event"] for e in await _events(api, room, "recording.*")][:2] == [
                "recording.started",
                "recording.stopped",
            ]

"""The recordings requests on a real recording: a real server with Janus, an SDK participant that
publishes, and the ``recording.process`` job building the MP4 (``tests.recordings`` fixtures).

Checks the collection's shapes, that the download links work without credentials, and the
``recording_status`` series of ``get_analytics``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from conclave.sdk import Participant
from tests.compat.qriib.helpers import QriibClient
from tests.realtime.conftest import ADMIN, Api, Server
from tests.recordings.conftest import ice_addresses, server, wait_status

__all__ = ["server"]  # the module-scoped server with Janus, from tests.recordings


async def _tenant(http: httpx.AsyncClient) -> tuple[Api, QriibClient, dict[str, Any]]:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    org = (await http.post("/api/v1/admin/organizations", json={"name": "qriib"}, headers=admin)).json()
    project = (
        await http.post(
            "/api/v1/projects", json={"name": "Project"}, headers={"Authorization": f"Bearer {org['secret']}"}
        )
    ).json()
    api = Api(http=http, headers={"Authorization": f"Bearer {project['secret_key']}"})
    return api, QriibClient(http, project["api_key"], project["secret_key"]), project


async def _record(server: Server, api: Api, room: str) -> dict[str, Any]:
    """Alice publishes for ~3 s while a composite recording runs; returns the ready recording."""
    token = await api.token(room, u="Alice", ud="alice-1", role="moderator")
    alice = Participant(server.base, token=token, ice_addresses=await ice_addresses(server), timeout=20)
    await alice.join()
    try:
        await alice.publish(video=True)
        started = await api.post(f"/api/v1/rooms/{room}/recordings/start", {"mode": "composite"})
        assert started.status_code == 200, started.text
        await asyncio.sleep(3)
        stopped = await api.post(f"/api/v1/rooms/{room}/recordings/stop")
        assert stopped.status_code == 200, stopped.text
    finally:
        await alice.leave()
    ready = await wait_status(api, started.json()["id"], {"ready", "failed"})
    assert ready["status"] == "ready", ready["error"]
    return ready


async def test_recordings_and_their_download_links(server: Server) -> None:
    async with asyncio.timeout(150), httpx.AsyncClient(base_url=server.base, timeout=30) as http:
        api, qriib, project = await _tenant(http)
        room = await api.room(recordings_enabled=True, name="Test room")
        recording = await _record(server, api, room["friendly_url"])
        recording_id = recording["id"]

        records = await qriib.get(f"/api/v4/recordings/get_records?project_id={project['id']}")
        assert records.status_code == 200, records.text
        body = records.json()
        assert body["count"] == 1
        item = body["items"][0]
        assert {k: item[k] for k in ("id", "project", "room", "status")} == {
            "id": recording_id,
            "project": {"project_id": project["id"], "project_name": "Project"},
            "room": {"room_id": room["id"], "room_name": "Test room"},
            "status": "ready",
        }
        assert len(item["created_at"]) == 19 and "Z" not in item["created_at"]  # "2025-11-19T12:08:26"
        assert item["url"].startswith(f"{server.base}/api/v4/recordings/download_recording/{recording_id}?")

        by_room = await qriib.get(f"/api/v4/recordings/get_record?room_id={room['id']}")
        assert by_room.json()["count"] == 1 and by_room.json()["items"][0]["id"] == recording_id

        link = await qriib.get(f"/api/v4/recordings/get_recording_link/{recording_id}?download=true")
        assert link.status_code == 200, link.text
        shown = link.json()
        assert shown["filename"] == f"{recording_id}.mp4"
        assert shown["recording_id"] == recording_id
        assert shown["message"] == "Click the download_url to download the recording"

        # No credentials: the signature in the link is the authority, until it expires.
        native = await http.get(f"/api/v1/recordings/{recording_id}/download", headers=api.headers)
        assert native.status_code == 200
        for url in (shown["download_url"], item["url"]):
            async with httpx.AsyncClient(timeout=30) as anonymous:
                downloaded = await anonymous.get(url)
            assert downloaded.status_code == 200, downloaded.text
            assert downloaded.content == native.content
            assert downloaded.headers["content-type"] == "video/mp4"
            assert f'filename="{recording_id}.mp4"' in downloaded.headers["content-disposition"]
        tampered = await http.get(shown["download_url"].replace("signature=", "signature=0"))
        assert tampered.status_code == 403
        # Signed like any other request instead, the download needs no link.
        signed = await qriib.get(f"/api/v4/recordings/download_recording/{recording_id}")
        assert signed.status_code == 200 and signed.content == native.content

        # Another project's key sees nothing.
        _, stranger, _ = await _tenant(http)
        foreign = await stranger.get(f"/api/v4/recordings/get_recording_link/{recording_id}")
        assert (foreign.status_code, foreign.json()) == (404, {"error": "Recording not found"})
        stolen = await stranger.get(f"/api/v4/recordings/download_recording/{recording_id}")
        assert stolen.status_code == 404

        analytics = await qriib.get(f"/api/v4/analytics/get_analytics?room_id={room['id']}")
        assert analytics.status_code == 200, analytics.text
        data = analytics.json()["data"]["data"]
        status = next(e for e in data["room"]["events"] if e["name"] == "recording_status")
        values = [point["value"] for point in status["values"]]
        assert status["total"] == 2
        assert values[0].startswith("ANALYTICS_STATUS_STARTED") and values[1] == "ANALYTICS_STATUS_ENDED"
        (alice,) = data["users"]
        assert (alice["user_id"], alice["name"], alice["is_admin"]) == ("alice-1", "Alice", True)
        series = {e["name"]: e["total"] for e in alice["events"]}
        assert series["joined"] == 1 and series["left"] == 1

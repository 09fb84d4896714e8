"""Listing, filters, pagination, archive, bulk deletes and tenant isolation of recordings.

The recordings are made for real (a live session on a real server) without media, so each
ends ``failed`` quickly; the management API does not care what they hold.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.realtime.conftest import ADMIN, Api, Client, Server, new_api
from tests.recordings.conftest import wait_status


async def _recorded(server: Server, api: Api, room: str, count: int) -> tuple[str, list[dict[str, Any]]]:
    """``count`` recordings made one after the other in one session of ``room``."""
    client = await Client.connect(server, f"token={await api.token(room, u='Ann', role='moderator')}")
    session_id = (await client.join())["session_id"]
    made = []
    for _ in range(count):
        started = await api.post(f"/api/v1/rooms/{room}/recordings/start", {"mode": "audio"})
        assert started.status_code == 200, started.text
        await api.post(f"/api/v1/rooms/{room}/recordings/stop")
        made.append(await wait_status(api, started.json()["id"], {"failed", "ready"}, within=30))
    await client.send(type="leave")
    return session_id, made


async def test_list_filter_archive_and_delete(server: Server, api: Api) -> None:
    async with asyncio.timeout(90):
        first = (await api.room(recordings_enabled=True))["friendly_url"]
        second = (await api.room(recordings_enabled=True))["friendly_url"]
        session_a, in_first = await _recorded(server, api, first, 2)
        _, in_second = await _recorded(server, api, second, 1)

        everything = await api.get("/api/v1/recordings?order=asc")
        assert everything["total_count"] == 3
        assert [r["id"] for r in everything["data"]] == [r["id"] for r in [*in_first, *in_second]]
        page = await api.get(f"/api/v1/recordings?order=asc&limit=1&after={in_first[0]['id']}")
        assert [r["id"] for r in page["data"]] == [in_first[1]["id"]]
        assert (await api.get(f"/api/v1/recordings?room={first}"))["total_count"] == 2
        assert (await api.get(f"/api/v1/recordings?session_id={session_a}"))["total_count"] == 2
        assert (await api.get("/api/v1/recordings?status=failed"))["total_count"] == 3
        assert (await api.get("/api/v1/recordings?status=ready"))["total_count"] == 0
        since = in_second[0]["created_at"]
        assert (await api.get(f"/api/v1/recordings?from={since}"))["total_count"] == 1
        assert (await api.get(f"/api/v1/recordings?to={since}"))["total_count"] == 2
        assert (await api.http.get("/api/v1/recordings?status=odd", headers=api.headers)).status_code == 422

        archived = await api.post(f"/api/v1/recordings/{in_first[0]['id']}/archive")
        assert archived.json()["archived"] is True
        assert (await api.get("/api/v1/recordings?archived=true"))["total_count"] == 1
        restored = await api.post(f"/api/v1/recordings/{in_first[0]['id']}/unarchive")
        assert restored.json()["archived"] is False

        async for stranger in new_api(server):
            foreign = await stranger.http.get(
                f"/api/v1/recordings/{in_first[0]['id']}", headers=stranger.headers
            )
            assert (foreign.status_code, foreign.json()["error"]["code"]) == (404, "recording_not_found")
            assert (await stranger.get("/api/v1/recordings"))["total_count"] == 0
            gone = await stranger.http.delete(
                f"/api/v1/recordings/{in_first[0]['id']}", headers=stranger.headers
            )
            assert gone.status_code == 404

        by_session = await api.http.delete(f"/api/v1/sessions/{session_a}/recordings", headers=api.headers)
        assert by_session.json() == {"deleted": 2}
        by_room = await api.http.delete(f"/api/v1/rooms/{second}/recordings", headers=api.headers)
        assert by_room.json() == {"deleted": 1}
        assert (await api.get("/api/v1/recordings"))["total_count"] == 0
        missing = await api.http.get(f"/api/v1/recordings/{in_second[0]['id']}", headers=api.headers)
        assert missing.status_code == 404


async def test_retention_deletes_old_recordings_but_keeps_archived_ones(server: Server) -> None:
    async with asyncio.timeout(90), httpx.AsyncClient(base_url=server.base, timeout=15) as http:
        admin = {"Authorization": f"Bearer {ADMIN}"}
        org = (await http.post("/api/v1/admin/organizations", json={"name": "ret"}, headers=admin)).json()
        org_headers = {"Authorization": f"Bearer {org['secret']}"}
        project = (await http.post("/api/v1/projects", json={"name": "ret"}, headers=org_headers)).json()
        api = Api(http=http, headers={"Authorization": f"Bearer {project['secret_key']}"})
        room = (await api.room(recordings_enabled=True))["friendly_url"]
        _, made = await _recorded(server, api, room, 2)
        kept = await api.post(f"/api/v1/recordings/{made[0]['id']}/archive")
        assert kept.status_code == 200
        # About 0.9 s: the sweep (every second in these tests) deletes the other one soon after.
        patched = await http.patch(
            f"/api/v1/projects/{project['id']}",
            json={"extra_data": {"recording_retention_days": 0.00001}},
            headers=org_headers,
        )
        assert patched.status_code == 200, patched.text
        remaining = (await api.get("/api/v1/recordings"))["data"]
        while len(remaining) > 1:
            await asyncio.sleep(0.5)
            remaining = (await api.get("/api/v1/recordings"))["data"]
        assert [r["id"] for r in remaining] == [made[0]["id"]]

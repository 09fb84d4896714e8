"""A crashed server's sessions are closed at the next start; a dead Janus means lost media."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from tests.realtime.conftest import Client, make_server, new_api


async def test_restart_closes_stale_sessions(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    server.start()
    try:
        async for api in new_api(server):
            room = await api.room()
            client = await Client.connect(server, f"token={await api.token(room['id'], u='Ann')}")
            session_id = (await client.join())["session_id"]
            await asyncio.sleep(1.5)  # at least one heartbeat
            server.stop(kill=True)
            await asyncio.sleep(0.5)
            server.start()
            ended = await api.get(f"/api/v1/sessions/{session_id}")
            assert (ended["status"], ended["end_reason"]) == ("ended", "server_restart")
            participants = (await api.get(f"/api/v1/sessions/{session_id}/participants"))["data"]
            assert [(p["status"], p["left_reason"]) for p in participants] == [("left", "server_restart")]
            assert participants[0]["left_at"] <= ended["ended_at"]
            assert (await api.get(f"/api/v1/rooms/{room['id']}"))["status"] == "idle"
            again = await Client.connect(server, f"token={await api.token(room['id'], u='Ann')}")
            assert (await again.join())["session_id"] != session_id
            await again.send(type="leave")
    finally:
        server.stop()


async def test_killing_janus_reports_media_lost(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    server.start()
    try:
        async for api in new_api(server):
            room = await api.room()
            client = await Client.connect(server, f"token={await api.token(room['id'], u='Ann')}")
            session_id = (await client.join())["session_id"]
            pids = server.janus_pids()
            if not pids:
                pytest.fail("no Janus child process found")
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            assert (await client.expect("room_media_lost", within=20))["type"] == "room_media_lost"
            events = await api.get(f"/api/v1/rooms/{room['id']}/events?type=room.media_lost")
            assert events["total_count"] == 1
            ended = await api.get(f"/api/v1/sessions/{session_id}")
            assert (ended["status"], ended["end_reason"]) == ("ended", "media_lost")
    finally:
        server.stop()

"""The processing job survives a crash: kill -9 the server mid-way, restart, it finishes."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from pathlib import Path

from conclave.sdk import Participant
from tests.realtime.conftest import Server, new_api
from tests.recordings.conftest import ffprobe, ice_addresses, recording_server, wait_status


def _tools_running(server: Server) -> bool:
    """Is janus-pp-rec or ffmpeg running in the server's process group (i.e. processing now)?"""
    assert server.process is not None
    found = subprocess.run(
        ["pgrep", "-g", str(server.process.pid), "-f", "ffmpeg|janus-pp-rec"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    return bool(found.stdout.split())


def _drop_namespaces(pid: int) -> None:
    """A SIGKILLed server leaves its Janus network namespace behind (docs/media.md)."""
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10)
    for line in listing.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(f"cnv-{pid}-"):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, timeout=10)


async def test_processing_finishes_after_a_crash_mid_way(tmp_path: Path) -> None:
    # A slow x264 preset keeps ffmpeg busy long enough to be caught in the act.
    server = recording_server(tmp_path, CONCLAVE_RECORDING_VIDEO_PRESET="veryslow")
    server.start()
    try:
        async with asyncio.timeout(240):
            async for api in new_api(server):
                room = (await api.room(recordings_enabled=True))["friendly_url"]
                token = await api.token(room, u="Ann", role="moderator")
                ann = Participant(
                    server.base, token=token, ice_addresses=await ice_addresses(server), timeout=20
                )
                await ann.join()
                await ann.publish()
                started = await api.post(f"/api/v1/rooms/{room}/recordings/start")
                recording = started.json()
                begin = time.monotonic()
                await asyncio.sleep(6)
                assert (await api.post(f"/api/v1/rooms/{room}/recordings/stop")).status_code == 200
                elapsed = time.monotonic() - begin
                await ann.leave()

                while not _tools_running(server):
                    current = await api.get(f"/api/v1/recordings/{recording['id']}")
                    assert current["status"] == "processing", "finished before the crash could happen"
                    await asyncio.sleep(0.05)
                assert server.process is not None
                pid = server.process.pid
                server.stop(kill=True)
                _drop_namespaces(pid)

                server.start()
                ready = await wait_status(api, recording["id"], {"ready", "failed"}, within=180)
                assert ready["status"] == "ready", ready["error"]
                response = await api.http.get(
                    f"/api/v1/recordings/{recording['id']}/download", headers=api.headers, timeout=60
                )
                target = tmp_path / "after-crash.mp4"
                target.write_bytes(response.content)
                probed = ffprobe(target)
                assert sorted(s["codec_name"] for s in probed["streams"]) == ["aac", "h264"]
                assert abs(float(probed["format"]["duration"]) - elapsed) <= 1.5
                events = await api.get(f"/api/v1/rooms/{room}/events?type=recording.ready")
                assert events["total_count"] == 1
    finally:
        with contextlib.suppress(Exception):
            server.stop()

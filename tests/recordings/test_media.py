"""Recordings with real media: SDK participants publish through Janus, the job builds the files."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from conclave.sdk import Participant
from tests.realtime.conftest import Api, Server
from tests.recordings.conftest import ffprobe, ice_addresses, wait_status

PUBLISH_SECONDS = 6.0


async def _participant(
    server: Server, api: Api, room: str, name: str, role: str = "moderator"
) -> tuple[Participant, dict[str, Any]]:
    token = await api.token(room, u=name, ud=name.lower(), role=role)
    participant = Participant(server.base, token=token, ice_addresses=await ice_addresses(server), timeout=20)
    joined = await participant.join()
    return participant, joined


async def _download(api: Api, recording: dict[str, Any], target: Path, **params: str) -> Path:
    response = await api.http.get(
        f"/api/v1/recordings/{recording['id']}/download", params=params, headers=api.headers, timeout=60
    )
    assert response.status_code == 200, response.text
    await asyncio.to_thread(target.write_bytes, response.content)
    return target


async def _record(
    server: Server, api: Api, *, mode: str | None, kind: str = "video", audio_only: bool = False
) -> tuple[dict[str, Any], float]:
    """Alice publishes, recording starts, Bob joins late and publishes; both stop after ~6 s."""
    room = (await api.room(recordings_enabled=True, kind=kind))["friendly_url"]
    alice, _ = await _participant(server, api, room, "Alice")
    bob: Participant | None = None
    try:
        await alice.publish(video=not audio_only)
        response = await api.post(f"/api/v1/rooms/{room}/recordings/start", {"mode": mode} if mode else None)
        assert response.status_code == 200, response.text
        started = time.monotonic()
        recording = response.json()
        assert recording["status"] == "in_progress"
        # Those inside are told; a joiner learns it from its joined frame (the page's indicator).
        told = await alice.wait_for_event("recording_started", within=10)
        assert told["recording_id"] == recording["id"]
        bob, joined = await _participant(server, api, room, "Bob")
        assert joined["recording"] == {"recording_id": recording["id"], "mode": recording["mode"]}
        await bob.publish(video=not audio_only)
        await asyncio.sleep(max(0.0, PUBLISH_SECONDS - (time.monotonic() - started)))
        response = await api.post(f"/api/v1/rooms/{room}/recordings/stop")
        assert response.status_code == 200, response.text
        elapsed = time.monotonic() - started
        assert response.json()["status"] == "processing"
        assert (await bob.wait_for_event("recording_stopped", within=10))["recording_id"] == recording["id"]
    finally:
        for participant in (bob, alice):
            if participant is not None:
                await participant.leave()
    ready = await wait_status(api, recording["id"], {"ready", "failed"})
    assert ready["status"] == "ready", ready["error"]
    return ready, elapsed


async def test_composite_mp4_has_h264_and_aac_over_the_whole_timeline(
    server: Server, api: Api, tmp_path: Path
) -> None:
    async with asyncio.timeout(180):
        recording, elapsed = await _record(server, api, mode="composite")
        path = await _download(api, recording, tmp_path / "composite.mp4")
        probed = ffprobe(path)
        kinds = sorted((s["codec_type"], s["codec_name"]) for s in probed["streams"])
        assert kinds == [("audio", "aac"), ("video", "h264")]
        duration = float(probed["format"]["duration"])
        assert abs(duration - elapsed) <= 1.5, (duration, elapsed)
        assert recording["size"] == path.stat().st_size
        assert [f["kind"] for f in recording["files"]] == ["composite"]


async def test_individual_mode_yields_one_file_per_track(server: Server, api: Api, tmp_path: Path) -> None:
    async with asyncio.timeout(180):
        recording, _ = await _record(server, api, mode="individual")
        files = recording["files"]
        tracks = [f for f in files if f["kind"] == "track"]
        # Two participants, each with one audio and one video m-line.
        assert sorted((f["participant_name"], f["content_type"]) for f in tracks) == [
            ("Alice", "audio/ogg"),
            ("Alice", "video/webm"),
            ("Bob", "audio/ogg"),
            ("Bob", "video/webm"),
        ]
        offsets = {
            name: [f["start_offset"] for f in tracks if f["participant_name"] == name]
            for name in ("Alice", "Bob")
        }
        # Bob joined after the start: his tracks begin no earlier than Alice's (how much later
        # depends on the machine's load, so only the order is asserted), and the timeline starts at 0.
        assert min(offsets["Alice"]) == 0.0
        assert min(offsets["Bob"]) >= min(offsets["Alice"]), tracks
        assert files[0]["kind"] == "archive"
        for track in tracks:
            path = await _download(api, recording, tmp_path / track["filename"], file=track["id"])
            streams = ffprobe(path)["streams"]
            assert [s["codec_type"] for s in streams] == [track["content_type"].split("/")[0]]


async def test_audio_room_yields_an_audio_only_file(server: Server, api: Api, tmp_path: Path) -> None:
    async with asyncio.timeout(180):
        recording, elapsed = await _record(server, api, mode=None, kind="audio", audio_only=True)
        assert recording["mode"] == "audio"
        path = await _download(api, recording, tmp_path / "audio.m4a")
        probed = ffprobe(path)
        assert [(s["codec_type"], s["codec_name"]) for s in probed["streams"]] == [("audio", "aac")]
        assert abs(float(probed["format"]["duration"]) - elapsed) <= 1.5
        assert recording["files"][0]["content_type"] == "audio/mp4"


async def test_range_download_signed_link_and_deletion(server: Server, api: Api, tmp_path: Path) -> None:
    async with asyncio.timeout(180):
        recording, _ = await _record(server, api, mode="audio")
        url = f"/api/v1/recordings/{recording['id']}/download"
        full = await api.http.get(url, headers=api.headers)
        assert full.status_code == 200 and full.headers["accept-ranges"] == "bytes"
        size = len(full.content)
        part = await api.http.get(url, headers={**api.headers, "Range": "bytes=10-99"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 10-99/{size}"
        assert part.content == full.content[10:100]
        beyond = await api.http.get(url, headers={**api.headers, "Range": f"bytes={size + 10}-"})
        assert beyond.status_code == 416

        link = (await api.post(f"/api/v1/recordings/{recording['id']}/link?ttl=60")).json()
        async with httpx.AsyncClient(timeout=30) as anonymous:
            signed = await anonymous.get(
                link["url"].replace("http://127.0.0.1:" + str(server.port), server.base)
            )
            assert signed.status_code == 200 and signed.content == full.content
            tampered = await anonymous.get(signed.request.url.copy_set_param("expires", "9999999999"))
            assert tampered.status_code == 403
            assert (await anonymous.get(f"{server.base}{url}")).status_code == 401

        stored = list((server.data_dir / "recordings" / "files").rglob(recording["files"][0]["filename"]))
        assert len(stored) == 1
        deleted = await api.http.delete(f"/api/v1/recordings/{recording['id']}", headers=api.headers)
        assert deleted.status_code == 204
        assert not stored[0].exists()
        assert (await api.http.get(url, headers=api.headers)).status_code == 404

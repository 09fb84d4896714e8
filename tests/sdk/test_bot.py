"""``conclave bot`` as a script uses it: a real process, its JSON report and its exit codes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from typing import Any

from conclave.sdk import ConclaveClient, Participant
from conclave.sdk.bot import EXIT_ADMISSION_REFUSED, EXIT_ERROR, EXIT_PUBLISH_REFUSED
from tests.sdk.conftest import CONCLAVE, ServerProcess, free_port

TEST_TIMEOUT = 120
BOT_TIMEOUT = 90


async def run_bot(*args: str) -> tuple[int, str, str]:
    """Run ``conclave bot`` without blocking the event loop (the test's own peers live on it)."""
    process = await asyncio.create_subprocess_exec(
        CONCLAVE, "bot", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), BOT_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def report(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON object, got: {stdout!r}"
    data: dict[str, Any] = json.loads(lines[0])
    return data


# --- no media needed ----------------------------------------------------------------------


def test_bot_needs_a_token_or_a_room() -> None:
    result = subprocess.run([CONCLAVE, "bot", "--json"], capture_output=True, text=True, timeout=60)
    assert result.returncode == EXIT_ERROR
    assert "--token or --room" in result.stderr


async def test_bot_reports_an_unreachable_server() -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        code, out, err = await run_bot(
            "--token", "t", "--server", f"http://127.0.0.1:{free_port()}", "--json"
        )
        assert code == EXIT_ERROR
        assert "cannot connect" in err
        assert report(out)["error"]["message"].startswith("cannot connect")


# --- against the media server -------------------------------------------------------------


async def test_bot_publishes_and_receives(media_server: ServerProcess) -> None:
    async with (
        asyncio.timeout(TEST_TIMEOUT),
        ConclaveClient(media_server.base_url, media_server.secret_key) as api,
    ):
        room = f"bot-{uuid.uuid4().hex[:8]}"
        await api.create_room(friendly_url=room)
        host_token = (await api.issue_token(room, name="host", role="moderator")).token
        bot_token = (await api.issue_token(room, name="robot", role="attendee")).token
        async with Participant(
            media_server.base_url, token=host_token, ice_addresses=media_server.ice_addresses
        ) as host:
            await host.publish()
            await host.subscribe()
            ice = [arg for address in media_server.ice_addresses for arg in ("--ice-address", address)]
            code, out, err = await run_bot(
                "--token", bot_token, "--server", media_server.base_url, "--name", "robot",
                "--publish", "--seconds", "8", "--json", *ice,
            )  # fmt: skip
            assert code == 0, err
            result = report(out)
            assert {"participant_id", "published", "video_frames_received", "audio_frames_received"} <= set(
                result
            )
            assert result["published"] is True and result["feed_id"] is not None
            assert result["display_name"] == "robot"
            assert result["video_frames_received"] > 0 and result["audio_frames_received"] > 0
            assert [f["participant_id"] for f in result["feeds"]] == [host.participant_id]
            # ... and the host decoded the bot's media.
            assert host.frames_from(participant_id=result["participant_id"]).video > 0
            left = await host.wait_for_event(
                "participant_left", lambda m: m["participant_id"] == result["participant_id"], within=15
            )
            assert left["reason"] == "left"


async def test_bot_asks_the_server_for_ice_addresses(media_server: ServerProcess) -> None:
    async with (
        asyncio.timeout(TEST_TIMEOUT),
        ConclaveClient(media_server.base_url, media_server.secret_key) as api,
    ):
        room = f"bot-{uuid.uuid4().hex[:8]}"
        await api.create_room(friendly_url=room)
        token = (await api.issue_token(room, name="auto", role="attendee")).token
        code, out, err = await run_bot(
            "--token", token, "--server", media_server.base_url, "--publish", "--seconds", "1",
            "--ice-address", "auto", "--json",
        )  # fmt: skip
        assert code == 0, err
        assert report(out)["published"] is True


async def test_bot_refused_admission_exits_non_zero(media_server: ServerProcess) -> None:
    async with (
        asyncio.timeout(TEST_TIMEOUT),
        ConclaveClient(media_server.base_url, media_server.secret_key) as api,
    ):
        room = f"bot-{uuid.uuid4().hex[:8]}"
        await api.create_room(friendly_url=room, privacy="private")
        code, out, err = await run_bot(
            "--room", room, "--name", "gatecrasher", "--server", media_server.base_url, "--json"
        )
        assert code == EXIT_ADMISSION_REFUSED
        assert "admission refused" in err and "token_required" in err
        assert report(out)["error"] == {
            "code": "token_required",
            "message": "admission refused: this room is private: an access token is required "
            "(code token_required, close code 4403)",
            "close_code": 4403,
        }


async def test_bot_refused_publishing_exits_non_zero(media_server: ServerProcess) -> None:
    async with (
        asyncio.timeout(TEST_TIMEOUT),
        ConclaveClient(media_server.base_url, media_server.secret_key) as api,
    ):
        room = f"bot-{uuid.uuid4().hex[:8]}"
        await api.create_room(friendly_url=room)
        token = (await api.issue_token(room, name="watcher", role="viewer")).token
        ice = [arg for address in media_server.ice_addresses for arg in ("--ice-address", address)]
        code, out, err = await run_bot(
            "--token", token, "--server", media_server.base_url, "--publish", "--seconds", "1", *ice
        )
        assert code == EXIT_PUBLISH_REFUSED
        assert "publishing refused" in err and "not_allowed" in err
        assert out == ""  # without --json nothing goes to stdout on failure

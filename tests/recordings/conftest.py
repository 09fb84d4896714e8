"""A real ``conclave serve`` (own Janus in a network namespace) and SDK participants that publish.

Everything is bounded in time: each helper waits with an explicit limit, and every test has
an overall ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import missing_component
from tests.realtime.conftest import Api, Server, make_server, new_api


def require_tools() -> None:
    for tool, package in (("janus-pp-rec", "janus-tools"), ("ffmpeg", "ffmpeg"), ("ffprobe", "ffmpeg")):
        if shutil.which(tool) is None:
            missing_component(f"{tool} is not installed (apt-get install {package})")


def recording_server(tmp: Path, **env: str) -> Server:
    require_tools()
    return make_server(
        tmp,
        CONCLAVE_JOB_LEASE_SECONDS="3",
        CONCLAVE_JOB_BACKOFF_BASE_SECONDS="0.5",
        CONCLAVE_WORKER_POLL_INTERVAL_SECONDS="0.3",
        CONCLAVE_RECORDING_RETENTION_SWEEP_SECONDS="1",
        **env,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = recording_server(tmp_path_factory.mktemp("rec"))
    running.start()
    yield running
    running.stop()


@pytest.fixture
async def api(server: Server) -> AsyncIterator[Api]:
    async for value in new_api(server):
        yield value


async def ice_addresses(server: Server) -> list[str]:
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        addresses: list[str] = (await http.get("/rtc/config")).json()["ice_addresses"]
        return addresses


async def wait_status(api: Api, recording_id: str, statuses: set[str], within: float = 90) -> dict[str, Any]:
    """Poll until the recording reaches one of ``statuses`` (bounded by ``within`` seconds)."""
    async with asyncio.timeout(within):
        while True:
            recording: dict[str, Any] = await api.get(f"/api/v1/recordings/{recording_id}")
            if recording["status"] in statuses:
                return recording
            await asyncio.sleep(0.3)


def ffprobe(path: Path) -> dict[str, Any]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    probed: dict[str, Any] = json.loads(result.stdout)
    return probed

"""A real ``conclave serve`` process with its own Janus (inside a network namespace)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.conftest import missing_component

CONCLAVE = str(Path(sys.executable).with_name("conclave"))
ADMIN = "realtime-admin-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    data_dir: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.data_dir / "server.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/rtc"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [CONCLAVE, "serve"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not become ready: {self.log.read_text()[-3000:]}")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if kill:
            # Like a crash: the server and its Janus die at once, nothing is cleaned up.
            os.killpg(self.process.pid, signal.SIGKILL)
        else:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def janus_pids(self) -> list[int]:
        assert self.process is not None
        found = subprocess.run(
            ["pgrep", "-P", str(self.process.pid), "janus"], capture_output=True, text=True
        )
        return [int(pid) for pid in found.stdout.split()]


def make_server(tmp: Path, **env: str) -> Server:
    if shutil.which("janus") is None:
        missing_component("the janus binary is not installed (apt-get install janus)")
    if os.geteuid() != 0 or shutil.which("ip") is None:
        missing_component("Janus runs in a network namespace here: root and iproute2 are required")
    inherited = {name: value for name, value in os.environ.items() if name != "CONCLAVE_DATABASE_URL"}
    values = {
        **inherited,
        "CONCLAVE_DATA_DIR": str(tmp),
        "CONCLAVE_PORT": str(_free_port()),
        "CONCLAVE_JANUS_NETNS": "true",
        "CONCLAVE_MASTER_KEY": "realtime-master-key-0123456789",
        "CONCLAVE_ADMIN_TOKEN": ADMIN,
        "CONCLAVE_LOG_LEVEL": "warning",
        "CONCLAVE_RTC_RESUME_GRACE_SECONDS": "2",
        "CONCLAVE_ROOM_EMPTY_TIMEOUT_SECONDS": "2",
        "CONCLAVE_SESSION_HEARTBEAT_SECONDS": "1",
        **env,
    }
    return Server(data_dir=tmp, port=int(values["CONCLAVE_PORT"]), env=values)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = make_server(tmp_path_factory.mktemp("rtc"))
    running.start()
    yield running
    running.stop()


@dataclass
class Api:
    """A project on a running server, spoken to over real HTTP."""

    http: httpx.AsyncClient
    headers: dict[str, str]

    async def room(self, **fields: Any) -> dict[str, Any]:
        response = await self.http.post("/api/v1/rooms", json=fields, headers=self.headers)
        assert response.status_code == 200, response.text
        room: dict[str, Any] = response.json()
        return room

    async def token(self, room: str, **claims: Any) -> str:
        response = await self.http.post(f"/api/v1/rooms/{room}/token", json=claims, headers=self.headers)
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token

    async def get(self, path: str) -> Any:
        response = await self.http.get(path, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.http.post(path, json=body, headers=self.headers)


async def new_api(server: Server) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.base, timeout=15) as http:
        admin = {"Authorization": f"Bearer {ADMIN}"}
        org = (await http.post("/api/v1/admin/organizations", json={"name": "rt"}, headers=admin)).json()
        project = (
            await http.post(
                "/api/v1/projects", json={"name": "rt"}, headers={"Authorization": f"Bearer {org['secret']}"}
            )
        ).json()
        yield Api(http=http, headers={"Authorization": f"Bearer {project['secret_key']}"})


@pytest.fixture
async def api(server: Server) -> AsyncIterator[Api]:
    async for value in new_api(server):
        yield value


class Client:
    """A bare protocol client (no media): enough to test admission, presence and moderation."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.joined: dict[str, Any] = {}

    @classmethod
    async def connect(cls, server: Server, query: str) -> Client:
        return cls(await websockets.connect(f"{server.ws}?{query}", open_timeout=10))

    async def send(self, **message: Any) -> None:
        await self.connection.send(json.dumps(message))

    async def recv(self, within: float = 10) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.connection.recv(), within))
        return message

    async def expect(self, kind: str, within: float = 10) -> dict[str, Any]:
        """Skip unrelated events until ``kind`` arrives."""

        async def wait() -> dict[str, Any]:
            while True:
                message = await self.recv(within)
                if message["type"] == kind:
                    return message

        return await asyncio.wait_for(wait(), within)

    async def join(self, **fields: Any) -> dict[str, Any]:
        await self.send(type="join", **fields)
        self.joined = await self.recv()
        return self.joined

    async def closed_with(self, within: float = 10) -> int | None:
        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), within)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None

    async def close(self) -> None:
        await self.connection.close()

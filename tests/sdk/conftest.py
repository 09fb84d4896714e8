"""Real servers for the SDK tests: ``conclave serve`` subprocesses on free 127.0.0.1 ports.

The SDK talks HTTP and WebSocket, so unlike the API tests it needs a real base URL, not an
ASGI transport. Each server gets its own temporary data dir (SQLite), explicit secrets,
and a project created with the CLI, exactly as an operator would set one up.

``rest_server`` runs without media (no Janus: the REST tests need none). ``media_server``
runs the embedded Janus inside a network namespace (``CONCLAVE_JANUS_NETNS=1``), so all
media crosses only that namespace's veth; the SDK peers are restricted to the veth's host
end, which the server reports at ``GET /rtc/config``. Without Janus, root or iproute2 the
realtime tests skip, or fail under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
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

from conclave.media.janus.client import JanusAdminClient
from conclave.media.local import JanusNotInstalled, find_janus_layout
from conclave.media.netns import netns_available
from tests.conftest import missing_component

CONCLAVE = str(Path(sys.executable).with_name("conclave"))
MASTER_KEY = "sdk-test-master-key-0123456789"
ADMIN_TOKEN = "sdk-test-admin-token"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A running ``conclave serve`` and the project created in it."""

    base_url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    secret_key: str = ""
    project_id: str = ""
    ice_addresses: list[str] = field(default_factory=list)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def cli(self, *args: str) -> dict[str, Any]:
        result = subprocess.run(
            [CONCLAVE, *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, f"conclave {' '.join(args)} failed: {result.stderr}"
        data: dict[str, Any] = json.loads(result.stdout)
        return data


def _dying_with_parent(command: list[str]) -> list[str]:
    """``command`` set to get SIGTERM if pytest dies, so a crashed run leaves no server behind.

    Done by util-linux's ``setpriv`` before it execs the command, not by a ``preexec_fn``: Python
    code between fork and exec in a process with threads (pytest's event-loop executors) can
    deadlock on a lock another thread held at the fork, and once hung the whole run here.
    """
    setpriv = shutil.which("setpriv") if sys.platform == "linux" else None
    return [setpriv, "--pdeathsig", "TERM", "--", *command] if setpriv else command


def start_server(tmp: Path, **settings: str) -> ServerProcess:
    """Start ``conclave serve`` and wait for ``/healthz``; the log goes to ``tmp/server.log``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCLAVE_")}
    env.update(
        {
            "CONCLAVE_HOST": "127.0.0.1",
            "CONCLAVE_PORT": str(port),
            "CONCLAVE_DATA_DIR": str(tmp / "data"),
            "CONCLAVE_MASTER_KEY": MASTER_KEY,
            "CONCLAVE_ADMIN_TOKEN": ADMIN_TOKEN,
            "CONCLAVE_LOG_LEVEL": "info",
            **{f"CONCLAVE_{key.upper()}": value for key, value in settings.items()},
        }
    )
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _dying_with_parent([CONCLAVE, "serve"]),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", tmp / "data", env, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise AssertionError(f"conclave serve exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop_server(server)
            raise AssertionError(f"conclave serve did not answer within {START_TIMEOUT:g}s:\n{server.log()}")
        time.sleep(0.2)
    organization = server.cli("admin", "create-organization", "--name", "SDK tests", "--json")
    project = server.cli(
        "admin", "create-project", "--organization", organization["id"], "--name", "SDK", "--json"
    )
    server.secret_key, server.project_id = project["secret_key"], project["id"]
    return server


def stop_server(server: ServerProcess) -> None:
    """SIGTERM (the server stops Janus and deletes its namespace), SIGKILL if it hangs."""
    if server.process.poll() is not None:
        return
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(5)


@pytest.fixture(scope="session")
def rest_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("sdk-rest"), local_janus="false")
    try:
        yield server
    finally:
        stop_server(server)


def require_media() -> None:
    try:
        find_janus_layout()
    except JanusNotInstalled as exc:
        missing_component(f"the SDK's realtime tests need Janus: {exc}")
    reason = netns_available()
    if reason is not None:
        missing_component(f"the SDK's realtime tests run Janus in a network namespace: {reason}")


@pytest.fixture(scope="session")
def media_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with a local Janus in a network namespace; ``ice_addresses`` from ``/rtc/config``."""
    require_media()
    server = start_server(
        tmp_path_factory.mktemp("sdk-media"),
        local_janus="true",
        janus_netns="true",
        room_empty_timeout_seconds="5",
    )
    try:
        config = httpx.get(f"{server.base_url}/rtc/config", timeout=10).json()
        server.ice_addresses = list(config.get("ice_addresses") or [])
        assert config.get("media_nodes"), f"the server started no media node:\n{server.log()}"
        assert server.ice_addresses, (
            f"the server reports no ICE address for same-host clients:\n{server.log()}"
        )
        yield server
    finally:
        stop_server(server)


def janus_admin_address(server: ServerProcess) -> tuple[str, str]:
    """URL and secret of the admin API of the server's own Janus, read from the config it runs with."""
    found = subprocess.run(["pgrep", "-P", str(server.process.pid), "janus"], capture_output=True, text=True)
    pids = found.stdout.split()
    assert pids, "the server runs no Janus child"
    argv = Path(f"/proc/{pids[0]}/cmdline").read_bytes().split(b"\0")
    config_dir = Path(argv[argv.index(b"-F") + 1].decode())

    def setting(file: str, name: str) -> str:
        text = (config_dir / file).read_text()
        match = re.search(rf"^\s*{name}\s*=\s*\"?([^\"\n]+)\"?", text, re.MULTILINE)
        assert match, f"{name} not found in {file}"
        return match.group(1)

    transport = "janus.transport.websockets.jcfg"
    url = f"ws://{setting(transport, 'admin_ws_ip')}:{setting(transport, 'admin_ws_port')}"
    return url, setting("janus.jcfg", "admin_secret")


@contextlib.asynccontextmanager
async def janus_admin(server: ServerProcess) -> AsyncIterator[JanusAdminClient]:
    """The admin API of the server's Janus: tests look there for what Conclave left behind."""
    url, secret = janus_admin_address(server)
    admin = JanusAdminClient(url, secret, connect_timeout=2, request_timeout=5)
    try:
        yield admin
    finally:
        await admin.close()

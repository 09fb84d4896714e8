"""A real `conclave serve` killed with SIGKILL and restarted still delivers every event."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.webhooks.receiver import Receiver, free_port

CONCLAVE = str(Path(sys.executable).with_name("conclave"))
ADMIN = "restart-admin-token"


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CONCLAVE_DATA_DIR": str(data_dir),
        "CONCLAVE_PORT": str(port),
        "CONCLAVE_ADMIN_TOKEN": ADMIN,
        "CONCLAVE_MASTER_KEY": "restart-master-key-0123456789",
        "CONCLAVE_WEBHOOK_BACKOFF_BASE_SECONDS": "0.1",
        "CONCLAVE_WEBHOOK_BACKOFF_CAP_SECONDS": "0.3",
        "CONCLAVE_WORKER_POLL_INTERVAL_SECONDS": "0.1",
        "CONCLAVE_JOB_LEASE_SECONDS": "2",
        "CONCLAVE_LOG_LEVEL": "warning",
    }
    env.pop("CONCLAVE_DATABASE_URL", None)
    return subprocess.Popen(
        [CONCLAVE, "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


async def wait_ready(http: httpx.AsyncClient) -> None:
    for _ in range(300):
        try:
            if (await http.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("conclave serve did not become ready")


async def test_receiver_down_across_a_server_crash_gets_everything(tmp_path: Path) -> None:
    port, receiver = free_port(), Receiver()
    base = f"http://127.0.0.1:{port}"
    server = start_server(tmp_path, port)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            await wait_ready(http)
            admin = {"Authorization": f"Bearer {ADMIN}"}
            org = (
                await http.post("/api/v1/admin/organizations", json={"name": "Acme"}, headers=admin)
            ).json()
            project = (
                await http.post(
                    "/api/v1/projects",
                    json={"name": "Web"},
                    headers={"Authorization": f"Bearer {org['secret']}"},
                )
            ).json()
            headers = {"Authorization": f"Bearer {project['secret_key']}"}
            webhook = (
                await http.post("/api/v1/webhooks", json={"endpoint": receiver.url}, headers=headers)
            ).json()
            for _ in range(5):
                assert (await http.post("/api/v1/rooms", json={}, headers=headers)).status_code == 200
            deliveries = f"/api/v1/webhooks/{webhook['id']}/deliveries"
            for _ in range(200):  # the receiver is down: wait until delivery was tried and failed
                rows = (await http.get(deliveries, headers=headers)).json()["data"]
                if rows and any(row["attempts"] > 0 for row in rows):
                    break
                await asyncio.sleep(0.05)
            assert all(row["status"] == "pending" for row in rows) and len(rows) == 5

        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        await receiver.start()
        server = start_server(tmp_path, port)
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            await wait_ready(http)
            await receiver.wait_for(lambda: len(receiver.accepted) == 5, within=30)
        assert len(set(receiver.accepted_ids())) == 5
        assert {r.json["event"] for r in receiver.accepted} == {"room.created"}
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        await receiver.stop()

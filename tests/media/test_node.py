"""Node-level behaviour: the local Janus process, health, load, keepalive, reconnects."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from conclave.media.janus.adapter import JanusMediaServer
from conclave.media.janus.client import JanusAdminClient, JanusClient
from conclave.media.janus.config import JanusNodeSettings
from conclave.media.local import JanusNotInstalled, LocalJanus, embedded_janus
from conclave.media.netns import NetworkNamespace
from conclave.media.port import MediaError, MediaEventKind, MediaNodeUnavailable, MediaRequestFailed
from tests.media.conftest import require_janus, require_netns
from tests.media.rtc_helpers import EventLog, RtcPeers, eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

Spawn = Callable[..., Awaitable[LocalJanus]]


async def test_health_reports_version_and_only_wanted_plugins(media: JanusMediaServer) -> None:
    async with asyncio.timeout(10):
        health = await media.health()
    assert health.version == "1.1.2"
    assert health.name == "conclave-embedded"
    assert health.accepting_sessions
    assert "janus.plugin.videoroom" in health.plugins
    assert set(health.plugins) <= {
        "janus.plugin.videoroom",
        "janus.plugin.textroom",
        "janus.plugin.streaming",
        "janus.plugin.audiobridge",
    }
    assert health.rtt_ms >= 0


async def test_only_websockets_transport_bound_to_namespace_address(
    local_janus: LocalJanus, media_host: NetworkNamespace
) -> None:
    client = JanusClient(local_janus.node_settings())
    async with asyncio.timeout(10):
        await client.connect()
        try:
            info = await client.info()
        finally:
            await client.close()
    assert list(info["transports"]) == ["janus.transport.websockets"]
    # Inside the namespace 127.0.0.1 is the namespace's own loopback: the host needs the veth address.
    assert local_janus.url.startswith(f"ws://{media_host.ns_ip}:")
    assert local_janus.admin_url.startswith(f"ws://{media_host.ns_ip}:")


async def test_janus_runs_inside_the_namespace_under_its_own_pid(
    local_janus: LocalJanus, media_host: NetworkNamespace
) -> None:
    """``ip netns exec`` execs Janus in place: the pid LocalJanus signals is Janus itself."""
    pid = local_janus.pid
    assert pid is not None
    assert os.path.basename(os.readlink(f"/proc/{pid}/exe")) == "janus"
    assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
    assert str(pid) in (await _ip("netns", "pids", media_host.name)).split()


async def test_embedded_janus_with_netns_owns_its_namespace() -> None:
    """What ``CONCLAVE_JANUS_NETNS=1`` runs: a fresh namespace, created and deleted with Janus."""
    require_janus()
    require_netns()
    async with asyncio.timeout(40):
        async with embedded_janus(netns=True, startup_timeout=30) as janus:
            namespace = janus.netns
            assert namespace is not None and namespace.created
            assert janus.url.startswith(f"ws://{namespace.ns_ip}:")
            name = namespace.name
            assert name in (await _ip("netns", "list"))
            server = await JanusMediaServer.connect(janus.node_settings())
            try:
                assert (await server.health()).version == "1.1.2"
            finally:
                await server.aclose()
        assert janus.pid is None
        assert not namespace.created
        assert name not in (await _ip("netns", "list"))


async def _ip(*args: str) -> str:
    process = await asyncio.create_subprocess_exec("ip", *args, stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    assert process.returncode == 0
    return out.decode()


async def test_load_counts_sessions_and_handles(
    media: JanusMediaServer, media_host: NetworkNamespace, room_key: str
) -> None:
    async with asyncio.timeout(30):
        await media.create_room(room_key, audio_only=False, max_publishers=2, record_dir=None)
        before = await media.load()
        peers = RtcPeers(media, host_addresses=[media_host.host_ip])
        try:
            _, published = await peers.publish(room_key, "load")
            during = await media.load()
            assert during.sessions == before.sessions + 1
            assert during.handles == before.handles + 1
            await media.leave(published.handle)
            assert (await media.load()).sessions == before.sessions
        finally:
            await peers.close()
        await media.destroy_room(room_key)


async def test_load_requires_admin_api(local_janus: LocalJanus) -> None:
    server = await JanusMediaServer.connect(JanusNodeSettings(ws_url=local_janus.url))
    try:
        with pytest.raises(MediaError, match="admin API"):
            await server.load()
    finally:
        await server.aclose()


async def test_admin_api_rejects_wrong_secret(local_janus: LocalJanus) -> None:
    admin = JanusAdminClient(local_janus.admin_url, "wrong", connect_timeout=2, request_timeout=5)
    try:
        with pytest.raises(MediaRequestFailed) as failure:
            await admin.list_sessions()
        assert failure.value.code == 403
    finally:
        await admin.close()


async def test_unreachable_node_raises_node_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(MediaNodeUnavailable):
        await JanusMediaServer.connect(JanusNodeSettings(ws_url=f"ws://127.0.0.1:{port}", connect_timeout=1))


async def test_missing_binary_is_a_clear_error() -> None:
    with pytest.raises(JanusNotInstalled, match="apt-get install janus"):
        await LocalJanus(binary="conclave-no-such-janus").start()


def _process_state(pid: int) -> str:
    """Linux scheduler state letter of ``pid`` ("T" once SIGSTOP took effect)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


async def test_socket_loss_fails_in_flight_requests_and_reconnects(spawn_janus: Spawn) -> None:
    janus = await spawn_janus()
    settings = janus.node_settings(request_timeout=30, reconnect_initial_delay=0.1, reconnect_max_delay=0.5)
    server = await JanusMediaServer.connect(settings)
    log = EventLog()
    server.add_event_listener(log)
    try:
        async with asyncio.timeout(45):
            await server.health()
            pid = janus.pid
            assert pid is not None
            os.kill(pid, signal.SIGSTOP)  # frozen: the request below gets no answer
            await eventually(lambda: _process_state(pid) == "T", 5, "Janus to be stopped")
            in_flight = asyncio.create_task(server.health())
            await asyncio.sleep(0.3)
            assert not in_flight.done()
            os.kill(pid, signal.SIGKILL)  # the kernel closes its sockets
            # "lost", not "no reply ... within 30s": failed by the socket loss, not its timeout.
            with pytest.raises(MediaNodeUnavailable, match=r"connection to .* lost"):
                await in_flight
            await log.wait_for(MediaEventKind.NODE_DOWN)
            with pytest.raises(MediaNodeUnavailable):
                await server.health()

            await janus.stop()
            await janus.start()  # same ports: the client finds it again by itself
            await log.wait_for(MediaEventKind.NODE_UP, within=15)
            assert (await server.health()).version == "1.1.2"
            room = "after-reconnect"
            await server.create_room(room, audio_only=True, max_publishers=1, record_dir=None)
            await server.destroy_room(room)
    finally:
        await server.aclose()


async def test_keepalive_keeps_sessions_past_session_timeout(spawn_janus: Spawn) -> None:
    janus = await spawn_janus(session_timeout=2)
    kept = JanusClient(janus.node_settings(keepalive_interval=0.5))
    idle = JanusClient(janus.node_settings(keepalive_interval=300))
    timeouts: list[Any] = []
    idle.add_event_listener(lambda event: timeouts.append(event) if event.janus == "timeout" else None)
    admin = JanusAdminClient(janus.admin_url, janus.admin_secret, connect_timeout=2, request_timeout=5)
    try:
        async with asyncio.timeout(30):
            await kept.connect()
            await idle.connect()
            assert kept.available and idle.available
            alive = await kept.create_session()
            expiring = await idle.create_session()
            await eventually(lambda: bool(timeouts), 10, "a session timeout event for the idle session")
            assert timeouts[0].session_id == expiring.id
            sessions = await admin.list_sessions()
            assert alive.id in sessions
            assert expiring.id not in sessions
            await alive.destroy()
            assert alive.id not in await admin.list_sessions()
    finally:
        await admin.close()
        await kept.close()
        await idle.close()
    assert not kept.available


async def test_relative_work_dir_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make run` uses the relative default data dir (./conclave-data): Janus must still start."""
    require_janus()
    monkeypatch.chdir(tmp_path)
    async with LocalJanus(work_dir=Path("conclave-data") / "janus") as janus:
        assert janus.pid is not None


async def test_a_port_taken_before_janus_binds_it_is_replaced(
    local_janus: LocalJanus,
    spawn_janus: Callable[..., Awaitable[LocalJanus]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ports are probed free, then bound by Janus a moment later; a port taken in between (here:
    the namespace's other Janus already listens on it) makes Janus exit, and it starts again."""
    from conclave.media import local

    taken = int(local_janus.url.rsplit(":", 1)[1])
    probes = iter([taken, taken + 1])
    real_probe = local._free_port
    monkeypatch.setattr(local, "_free_port", lambda: next(probes, None) or real_probe())
    janus = await spawn_janus()
    assert janus.url != local_janus.url
    client = JanusClient(janus.node_settings())
    try:
        await client.connect()
        assert (await client.info())["name"]
    finally:
        await client.close()

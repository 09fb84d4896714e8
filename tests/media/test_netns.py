"""The isolated media host: network namespace + veth creation, reachability and teardown."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from conclave.media.netns import NETNS_NETWORK, NetnsError, NetnsUnavailable, NetworkNamespace
from tests.media.conftest import require_netns

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Runs inside the namespace: answers one UDP datagram, echoing it, on the namespace address.
ECHO = """
import socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((sys.argv[1], 0))
print(sock.getsockname()[1], flush=True)
sock.settimeout(10)
data, peer = sock.recvfrom(2048)
sock.sendto(data, peer)
"""


async def _ip(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        "ip", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await process.communicate()
    return out.decode() if process.returncode == 0 else ""


async def _namespaces() -> set[str]:
    return {line.split()[0] for line in (await _ip("netns", "list")).splitlines() if line.strip()}


async def _link_exists(name: str) -> bool:
    return bool(await _ip("link", "show", "dev", name))


def _addresses(ip_json: str) -> dict[str, Any]:
    """``ip -j addr`` output keyed by interface name."""
    return {link["ifname"]: link for link in json.loads(ip_json or "[]")}


@pytest_asyncio.fixture(loop_scope="module")
async def namespace() -> AsyncIterator[NetworkNamespace]:
    require_netns()
    ns = NetworkNamespace()
    try:
        await ns.create()
    except NetnsUnavailable as exc:
        pytest.fail(f"namespace creation refused although root and ip are present: {exc}")
    try:
        yield ns
    finally:
        await ns.close()


async def test_namespace_has_a_veth_with_a_private_30(namespace: NetworkNamespace) -> None:
    async with asyncio.timeout(20):
        assert namespace.created
        assert namespace.name in await _namespaces()
        assert namespace.command_prefix() == ["ip", "netns", "exec", namespace.name]
        host, inside = ipaddress.ip_address(namespace.host_ip), ipaddress.ip_address(namespace.ns_ip)
        block = ipaddress.IPv4Network(f"{namespace.host_ip}/30", strict=False)
        assert block.subnet_of(NETNS_NETWORK)
        assert [host, inside] == list(block.hosts())

        host_side = _addresses(await _ip("-j", "addr", "show", "dev", namespace.host_interface))
        link = host_side[namespace.host_interface]
        assert "UP" in link["flags"]
        # IPv4 only: no link-local IPv6 address either, so nothing else can become a candidate.
        assert [(a["family"], a["local"]) for a in link["addr_info"]] == [("inet", namespace.host_ip)]

        inside_links = _addresses(await _ip("-n", namespace.name, "-j", "addr", "show"))
        assert set(inside_links) == {"lo", namespace.ns_interface}
        assert "UP" in inside_links["lo"]["flags"]
        veth = inside_links[namespace.ns_interface]
        assert [(a["family"], a["local"]) for a in veth["addr_info"]] == [("inet", namespace.ns_ip)]
        # No default route: the veth's /30 is the only way out of the namespace.
        assert "default" not in await _ip("-n", namespace.name, "route", "show")


async def test_host_reaches_a_process_started_with_the_command_prefix(namespace: NetworkNamespace) -> None:
    async with asyncio.timeout(20):
        echo = await asyncio.create_subprocess_exec(
            *namespace.command_prefix(),
            sys.executable,
            "-c",
            ECHO,
            namespace.ns_ip,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert echo.stdout is not None
            port = int(await echo.stdout.readline())
            assert await _ip("netns", "identify", str(echo.pid)) == f"{namespace.name}\n"
            loop = asyncio.get_running_loop()
            received: asyncio.Future[tuple[bytes, tuple[str, int]]] = loop.create_future()

            class Client(asyncio.DatagramProtocol):
                def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                    if not received.done():
                        received.set_result((data, addr))

            transport, _ = await loop.create_datagram_endpoint(
                Client, local_addr=(namespace.host_ip, 0), remote_addr=(namespace.ns_ip, port)
            )
            try:
                transport.sendto(b"ping")
                data, addr = await received
            finally:
                transport.close()
            assert (data, addr) == (b"ping", (namespace.ns_ip, port))
            assert await echo.wait() == 0
        finally:
            if echo.returncode is None:
                echo.kill()
                await echo.wait()


async def test_two_namespaces_get_distinct_names_and_blocks() -> None:
    require_netns()
    async with asyncio.timeout(30), NetworkNamespace() as first, NetworkNamespace() as second:
        assert first.name != second.name
        assert first.host_interface != second.host_interface
        first_block = ipaddress.IPv4Network(f"{first.host_ip}/30", strict=False)
        second_block = ipaddress.IPv4Network(f"{second.host_ip}/30", strict=False)
        assert not first_block.overlaps(second_block)


async def test_close_removes_everything_and_is_idempotent() -> None:
    require_netns()
    async with asyncio.timeout(30):
        ns = NetworkNamespace()
        await ns.create()
        name, host_if = ns.name, ns.host_interface
        # A process left running inside would keep the namespace (and the veth) alive.
        leftover = await asyncio.create_subprocess_exec(*ns.command_prefix(), "sleep", "60")
        await ns.close()
        assert await leftover.wait() != 0  # killed by close()
        assert name not in await _namespaces()
        assert not await _link_exists(host_if)
        assert not ns.created
        await ns.close()  # again: nothing left to do, no error


async def test_failed_setup_is_rolled_back(monkeypatch: pytest.MonkeyPatch) -> None:
    require_netns()

    async def no_block(self: NetworkNamespace) -> ipaddress.IPv4Network:
        raise NetnsError("simulated: no block")

    monkeypatch.setattr(NetworkNamespace, "_free_block", no_block)
    ns = NetworkNamespace()
    async with asyncio.timeout(30):
        with pytest.raises(NetnsError, match="simulated"):
            await ns.create()
        # The veth pair already existed when the step failed; the namespace name follows it.
        assert ns.host_interface
        assert not await _link_exists(ns.host_interface)
        pid, n = ns.host_interface.removeprefix("cnv").split("h")
        assert f"cnv-{pid}-{n}" not in await _namespaces()
        assert not ns.created and ns.name == ""


async def test_not_root_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(NetnsUnavailable, match="need root"):
        await NetworkNamespace().create()


async def test_missing_ip_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(NetnsUnavailable, match="iproute2"):
        await NetworkNamespace(ip_binary="conclave-no-such-ip").create()


async def test_command_prefix_needs_a_created_namespace() -> None:
    with pytest.raises(NetnsError, match="not been created"):
        NetworkNamespace().command_prefix()


async def test_namespaces_of_dead_processes_are_removed() -> None:
    """A server killed with SIGKILL cannot delete its namespace; the next run does."""
    require_netns()
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()
    orphan = f"cnv-{gone.pid}-0"
    add = await asyncio.create_subprocess_exec("ip", "netns", "add", orphan)
    assert await add.wait() == 0
    fresh = NetworkNamespace()
    try:
        await fresh.create()
        listing = await asyncio.create_subprocess_exec("ip", "netns", "list", stdout=asyncio.subprocess.PIPE)
        names = (await listing.communicate())[0].decode()
        assert orphan not in names and fresh.name in names
    finally:
        await fresh.close()
        cleanup = await asyncio.create_subprocess_exec(
            "ip", "netns", "delete", orphan, stderr=asyncio.subprocess.DEVNULL
        )
        await cleanup.wait()

"""Fixtures for media tests: a real local Janus and real aiortc peers.

Media never touches a real interface: Janus runs inside a private network namespace
(``media_host``, one per module) and only gathers candidates on its veth end, while the
aiortc peers only offer the host end of the same veth (``RtcPeers`` restricts aioice with
``conclave.media.ice.restrict_host_addresses``). Without root or iproute2 the tests skip,
or fail under ``CI=true``, like a missing Janus.

Async fixtures here run on the *module* event loop (``loop_scope="module"``), and every
test module marks its tests with ``pytest.mark.asyncio(loop_scope="module")``: the Janus
child process and the WebSocket client must live on the loop the tests use.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio

from conclave.media.janus.adapter import JanusMediaServer
from conclave.media.janus.config import JanusNodeSettings
from conclave.media.local import JanusNotInstalled, LocalJanus, find_janus_layout
from conclave.media.netns import NetnsUnavailable, NetworkNamespace, netns_available
from tests.conftest import missing_component
from tests.media.rtc_helpers import EventLog, RtcPeers

JANUS_START_TIMEOUT = 30.0


def require_janus() -> None:
    """Skip (developer machine) or fail (CI=true) when the Janus package is missing."""
    try:
        find_janus_layout()
    except JanusNotInstalled as exc:
        missing_component(f"Janus is required for media tests: {exc}")


def require_netns() -> None:
    """Skip (developer machine) or fail (CI=true) when network namespaces cannot be made."""
    reason = netns_available()
    if reason is not None:
        missing_component(f"media tests run Janus in a network namespace: {reason}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def media_host() -> AsyncIterator[NetworkNamespace]:
    """The isolated host Janus runs on; the test peers talk to it over its veth only."""
    require_netns()
    namespace = NetworkNamespace()
    try:
        await namespace.create()
    except NetnsUnavailable as exc:
        missing_component(f"cannot create a network namespace for media tests: {exc}")
    try:
        yield namespace
    finally:
        await namespace.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def local_janus(media_host: NetworkNamespace) -> AsyncIterator[LocalJanus]:
    require_janus()
    janus = LocalJanus(netns=media_host)
    await asyncio.wait_for(janus.start(), JANUS_START_TIMEOUT)
    try:
        yield janus
    finally:
        await janus.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def spawn_janus(media_host: NetworkNamespace) -> AsyncIterator[Callable[..., Awaitable[LocalJanus]]]:
    """Start extra, test-private Janus processes (for tests that kill or reconfigure one)."""
    require_janus()
    started: list[LocalJanus] = []

    async def spawn(**options: Any) -> LocalJanus:
        janus = LocalJanus(netns=media_host, **options)
        await asyncio.wait_for(janus.start(), JANUS_START_TIMEOUT)
        started.append(janus)
        return janus

    try:
        yield spawn
    finally:
        for janus in started:
            await janus.stop()


@pytest.fixture(scope="module")
def janus_settings(local_janus: LocalJanus) -> JanusNodeSettings:
    """One settings object (and so one room secret key) shared by every adapter of a module."""
    return local_janus.node_settings()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def media(janus_settings: JanusNodeSettings) -> AsyncIterator[JanusMediaServer]:
    server = await JanusMediaServer.connect(janus_settings)
    try:
        yield server
    finally:
        await server.aclose()


@pytest.fixture
def room_key() -> str:
    return f"room-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def events(media: JanusMediaServer) -> Iterator[EventLog]:
    log = EventLog()
    remove = media.add_event_listener(log)
    yield log
    remove()


@pytest_asyncio.fixture(loop_scope="module")
async def rtc(media: JanusMediaServer, media_host: NetworkNamespace) -> AsyncIterator[RtcPeers]:
    peers = RtcPeers(media, host_addresses=[media_host.host_ip])
    try:
        yield peers
    finally:
        await asyncio.wait_for(peers.close(), 10)

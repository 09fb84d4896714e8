"""The media nodes a server may place sessions on, and which of them is healthy.

A room's session lives on one node, chosen by load when the session starts; a node that
stops answering is marked down so no new session goes there, and the listeners learn of
it (the realtime layer tells the rooms on it that their media is lost).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from conclave.media.port import MediaError, MediaEvent, MediaEventKind, MediaNodeUnavailable, MediaServer

log = logging.getLogger(__name__)

NodeListener = Callable[[str, MediaEvent], None]


@dataclass
class MediaNode:
    name: str
    server: MediaServer
    healthy: bool = True
    _unsubscribe: Callable[[], None] | None = field(default=None, repr=False)


class MediaNodes:
    def __init__(self) -> None:
        self._nodes: dict[str, MediaNode] = {}
        self._listeners: list[NodeListener] = []

    def add(self, name: str, server: MediaServer) -> None:
        node = MediaNode(name=name, server=server)

        def forward(event: MediaEvent) -> None:
            if event.kind == MediaEventKind.NODE_DOWN:
                node.healthy = False
                log.warning("media node %s is down", name)
            elif event.kind == MediaEventKind.NODE_UP:
                node.healthy = True
                log.info("media node %s is back", name)
            for listener in list(self._listeners):
                listener(name, event)

        node._unsubscribe = server.add_event_listener(forward)
        self._nodes[name] = node

    def listen(self, listener: NodeListener) -> None:
        self._listeners.append(listener)

    @property
    def names(self) -> list[str]:
        return list(self._nodes)

    def __bool__(self) -> bool:
        return bool(self._nodes)

    def get(self, name: str) -> MediaServer:
        node = self._nodes.get(name)
        if node is None:
            raise MediaNodeUnavailable(f"media node {name!r} is not registered")
        return node.server

    async def pick(self) -> str:
        """The healthy node with the fewest Janus sessions (one without a load report comes last)."""
        ranked: list[tuple[int, str]] = []
        for node in self._nodes.values():
            if not node.healthy:
                continue
            try:
                sessions = (await node.server.load()).sessions
            except MediaError as exc:
                log.warning("media node %s did not report its load: %s", node.name, exc)
                sessions = 1 << 30
            ranked.append((sessions, node.name))
        if not ranked:
            raise MediaNodeUnavailable("no healthy media node is available")
        return min(ranked)[1]

    async def aclose(self) -> None:
        for node in self._nodes.values():
            if node._unsubscribe:
                node._unsubscribe()
            await node.server.aclose()
        self._nodes.clear()

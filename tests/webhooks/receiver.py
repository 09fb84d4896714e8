"""A real HTTP receiver on loopback (plain asyncio, HTTP/1.1 keep-alive) for webhook tests.

``respond`` decides each answer from the request (status code, optionally after awaiting);
every request is recorded, and ``accepted`` keeps the 2xx ones in arrival order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int = 0

    @property
    def delivery_id(self) -> str:
        return self.headers["x-conclave-delivery"]

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


Responder = Callable[[Received], Awaitable[int] | int]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Receiver:
    respond: Responder = lambda _request: 200
    port: int = field(default_factory=free_port)
    requests: list[Received] = field(default_factory=list)
    accepted: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _connections: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def wait_for(self, predicate: Callable[[], bool], within: float = 15.0) -> None:
        async def check() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(check(), within)

    def accepted_ids(self) -> list[str]:
        return [request.delivery_id for request in self.accepted]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Received(headers=headers, body=body)
                answer = self.respond(request)
                status = await answer if not isinstance(answer, int) else answer
                request.status = status
                async with self._changed:
                    self.requests.append(request)
                    if 200 <= status < 300:
                        self.accepted.append(request)
                    self._changed.notify_all()
                payload = b"ok" if status < 400 else b"nope"
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Length: {len(payload)}\r\n"
                    "Content-Type: text/plain\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()

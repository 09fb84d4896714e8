"""Janus WebSocket transport: sessions, handles, transactions, events, reconnects.

Choice of library: our own client on ``websockets`` instead of PyPI ``janus-client``
(evaluated at 0.9.0). That package is asyncio based, but it does not fit Conclave's
needs: no reconnect and in-flight transactions are not failed when the socket dies
(callers would hang until their own timeout), it hard-depends on aiortc and aiohttp
(the server must not pull a WebRTC stack), it keeps a class-level transport registry
(global mutable state), ships no type information, and logs every message at INFO.
The Janus protocol itself is small (JSON messages matched by ``transaction``), so a
focused, typed transport is less code to own than adapting that package.

Protocol notes that shape the code:

* Janus API requests resolve on the first reply carrying their transaction, except
  plugin ``message``\\ s: Janus may answer those with an ``ack`` first and deliver the
  real result later as an ``event`` with the same transaction (always the case when a
  JSEP is involved). ``trickle`` and ``keepalive`` are fully answered by the ``ack``.
* Plugin errors are reported inside ``plugindata.data`` (``error_code``/``error``),
  core errors as ``janus: error``; both become :class:`MediaRequestFailed`.
* Sessions die after ``session_timeout`` (60 s by default) without traffic, hence a
  keepalive per session every ``keepalive_interval`` seconds.
* When the socket closes Janus tears down the sessions created on it, so after a
  reconnect all old sessions/handles are gone; listeners are told via state callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.typing import Subprotocol

from conclave.media.janus.config import JanusNodeSettings
from conclave.media.port import MediaNodeUnavailable, MediaRequestFailed

__all__ = [
    "JanusAdminClient",
    "JanusClient",
    "JanusEvent",
    "JanusHandle",
    "JanusSession",
    "JsonObject",
    "PluginReply",
]

logger = logging.getLogger(__name__)

JsonObject = dict[str, Any]

API_SUBPROTOCOL = "janus-protocol"
ADMIN_SUBPROTOCOL = "janus-admin-protocol"
_MAX_MESSAGE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class JanusEvent:
    """An asynchronous message from Janus not answering any pending transaction."""

    janus: str
    session_id: int | None
    handle_id: int | None
    plugin: str | None
    data: JsonObject
    jsep: JsonObject | None
    raw: JsonObject


@dataclass(frozen=True)
class PluginReply:
    """Result of a plugin message: the plugin's data and the JSEP, if any."""

    data: JsonObject
    jsep: JsonObject | None


@dataclass
class _Pending:
    future: asyncio.Future[JsonObject]
    ack_is_final: bool


def _core_error(message: JsonObject) -> MediaRequestFailed:
    error = message.get("error") or {}
    return MediaRequestFailed(int(error.get("code", 0)), str(error.get("reason", "unknown error")))


class _Channel:
    """One WebSocket plus its transaction table.

    A channel is never reused after its socket closes: the owner creates a fresh one,
    which keeps the "what is pending on which socket" question trivial.
    """

    def __init__(
        self,
        url: str,
        subprotocol: str,
        *,
        connect_timeout: float,
        on_unmatched: Callable[[JsonObject], None],
        on_closed: Callable[[], None],
    ) -> None:
        self._url = url
        self._subprotocol = subprotocol
        self._connect_timeout = connect_timeout
        self._on_unmatched = on_unmatched
        self._on_closed = on_closed
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[str, _Pending] = {}

    @property
    def is_open(self) -> bool:
        return self._ws is not None

    async def open(self) -> None:
        try:
            self._ws = await connect(
                self._url,
                subprotocols=[Subprotocol(self._subprotocol)],
                open_timeout=self._connect_timeout,
                compression=None,
                max_size=_MAX_MESSAGE_BYTES,
            )
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise MediaNodeUnavailable(f"cannot connect to {self._url}: {exc}") from exc
        if self._ws.subprotocol != self._subprotocol:
            await self._ws.close()
            self._ws = None
            raise MediaNodeUnavailable(f"{self._url} did not accept subprotocol {self._subprotocol}")
        self._reader = asyncio.create_task(self._read(self._ws), name=f"janus-reader {self._url}")

    async def close(self) -> None:
        ws, reader = self._ws, self._reader
        if ws is not None:
            await ws.close()
        if reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def request(self, message: JsonObject, *, reply_timeout: float, ack_is_final: bool) -> JsonObject:
        """Send ``message`` with a fresh transaction and wait for its final reply."""
        ws = self._ws
        if ws is None:
            raise MediaNodeUnavailable(f"not connected to {self._url}")
        transaction = secrets.token_hex(8)
        future: asyncio.Future[JsonObject] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = _Pending(future, ack_is_final)
        try:
            await ws.send(json.dumps({**message, "transaction": transaction}))
            return await asyncio.wait_for(future, reply_timeout)
        except ConnectionClosed as exc:
            raise MediaNodeUnavailable(f"connection to {self._url} lost") from exc
        except TimeoutError as exc:
            raise MediaNodeUnavailable(
                f"no reply from {self._url} to {message.get('janus')!r} within {reply_timeout:g}s"
            ) from exc
        finally:
            self._pending.pop(transaction, None)

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                try:
                    message = json.loads(raw)
                except ValueError:
                    logger.warning("ignoring non-JSON frame from %s", self._url)
                    continue
                if isinstance(message, dict):
                    self._dispatch(message)
        except ConnectionClosed:
            pass
        finally:
            self._ws = None
            failure = MediaNodeUnavailable(f"connection to {self._url} lost")
            for pending in self._pending.values():
                if not pending.future.done():
                    pending.future.set_exception(failure)
            self._pending.clear()
            self._on_closed()

    def _dispatch(self, message: JsonObject) -> None:
        pending = self._pending.get(str(message.get("transaction")))
        if pending is None or pending.future.done():
            self._on_unmatched(message)
            return
        kind = message.get("janus")
        if kind == "ack" and not pending.ack_is_final:
            return
        if kind == "error":
            pending.future.set_exception(_core_error(message))
        else:
            pending.future.set_result(message)


class JanusHandle:
    """A plugin handle inside a session (one per peer connection or control channel)."""

    def __init__(self, session: JanusSession, handle_id: int, plugin: str) -> None:
        self.session = session
        self.id = handle_id
        self.plugin = plugin

    async def request(self, body: JsonObject) -> JsonObject:
        """Synchronous plugin request (create, kick, listparticipants...): returns its data."""
        reply = await self._message(body, None, self.session.client.settings.request_timeout)
        return reply.data

    async def message(self, body: JsonObject, jsep: JsonObject | None = None) -> PluginReply:
        """Asynchronous plugin request (join, publish, start...): waits for the event."""
        return await self._message(body, jsep, self.session.client.settings.negotiation_timeout)

    async def trickle(self, candidate: JsonObject | None) -> None:
        """Send one ICE candidate, or end-of-candidates when ``candidate`` is None."""
        payload: JsonObject = {"completed": True} if candidate is None else candidate
        await self._send({"janus": "trickle", "candidate": payload}, ack_is_final=True)

    async def _message(self, body: JsonObject, jsep: JsonObject | None, reply_timeout: float) -> PluginReply:
        message: JsonObject = {"janus": "message", "body": body}
        if jsep is not None:
            message["jsep"] = jsep
        reply = await self._send(message, ack_is_final=False, reply_timeout=reply_timeout)
        data = dict((reply.get("plugindata") or {}).get("data") or {})
        if "error_code" in data:
            raise MediaRequestFailed(int(data["error_code"]), str(data.get("error", "plugin error")))
        return PluginReply(data=data, jsep=reply.get("jsep"))

    async def _send(
        self, message: JsonObject, *, ack_is_final: bool, reply_timeout: float | None = None
    ) -> JsonObject:
        message = {**message, "session_id": self.session.id, "handle_id": self.id}
        return await self.session.client.request(
            message, ack_is_final=ack_is_final, reply_timeout=reply_timeout
        )


class JanusSession:
    """A Janus session; kept alive by the client's keepalive loop until destroyed."""

    def __init__(self, client: JanusClient, session_id: int) -> None:
        self.client = client
        self.id = session_id

    async def attach(self, plugin: str) -> JanusHandle:
        reply = await self.client.request({"janus": "attach", "session_id": self.id, "plugin": plugin})
        return JanusHandle(self, int(reply["data"]["id"]), plugin)

    async def destroy(self) -> None:
        self.client.forget_session(self.id)
        await self.client.request({"janus": "destroy", "session_id": self.id})


class JanusClient:
    """Connection to a node's Janus API with reconnect and event dispatch.

    After :meth:`connect` succeeds once, a lost socket is reconnected in the background
    with exponential backoff; meanwhile requests fail fast with MediaNodeUnavailable.
    """

    def __init__(self, settings: JanusNodeSettings) -> None:
        self.settings = settings
        self._channel: _Channel | None = None
        self._sessions: dict[int, JanusSession] = {}
        self._event_listeners: list[Callable[[JanusEvent], None]] = []
        self._state_listeners: list[Callable[[bool], None]] = []
        self._keepalive_task: asyncio.Task[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def available(self) -> bool:
        return self._channel is not None and self._channel.is_open

    async def connect(self) -> None:
        """Open the socket; raises MediaNodeUnavailable if the node cannot be reached."""
        if self.available:
            return
        self._closing = False
        await self._open_channel()
        if self._keepalive_task is None:
            self._keepalive_task = asyncio.create_task(self._keepalive_loop(), name="janus-keepalive")

    async def close(self) -> None:
        self._closing = True
        for task in (self._keepalive_task, self._reconnect_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._keepalive_task = self._reconnect_task = None
        self._sessions.clear()
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    def add_event_listener(self, listener: Callable[[JanusEvent], None]) -> Callable[[], None]:
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    def add_state_listener(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        """``listener(False)`` when the socket is lost, ``listener(True)`` once reconnected."""
        self._state_listeners.append(listener)
        return lambda: self._state_listeners.remove(listener)

    async def request(
        self, message: JsonObject, *, ack_is_final: bool = False, reply_timeout: float | None = None
    ) -> JsonObject:
        """Send a raw Janus API request (adds apisecret) and return the final reply."""
        channel = self._channel
        if channel is None or not self.available:
            raise MediaNodeUnavailable(f"Janus node {self.settings.ws_url} is unavailable")
        if self.settings.api_secret is not None:
            message = {**message, "apisecret": self.settings.api_secret.get_secret_value()}
        return await channel.request(
            message, reply_timeout=reply_timeout or self.settings.request_timeout, ack_is_final=ack_is_final
        )

    async def info(self) -> JsonObject:
        return await self.request({"janus": "info"})

    async def ping(self) -> float:
        """Round-trip time of a Janus ``ping`` in seconds."""
        started = time.perf_counter()
        await self.request({"janus": "ping"})
        return time.perf_counter() - started

    async def create_session(self) -> JanusSession:
        reply = await self.request({"janus": "create"})
        session = JanusSession(self, int(reply["data"]["id"]))
        self._sessions[session.id] = session
        return session

    def forget_session(self, session_id: int) -> None:
        """Stop keeping a session alive (it was destroyed or timed out)."""
        self._sessions.pop(session_id, None)

    async def _open_channel(self) -> None:
        channel = _Channel(
            self.settings.ws_url,
            API_SUBPROTOCOL,
            connect_timeout=self.settings.connect_timeout,
            on_unmatched=self._on_unmatched,
            on_closed=self._on_closed,
        )
        await channel.open()
        self._channel = channel

    def _on_closed(self) -> None:
        self._sessions.clear()
        if self._closing:
            return
        logger.warning("lost connection to Janus at %s; reconnecting", self.settings.ws_url)
        self._notify_state(False)
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = asyncio.create_task(self._reconnect_loop(), name="janus-reconnect")

    async def _reconnect_loop(self) -> None:
        delay = self.settings.reconnect_initial_delay
        while not self._closing:
            await asyncio.sleep(delay)
            try:
                await self._open_channel()
            except MediaNodeUnavailable as exc:
                logger.info("Janus reconnect failed (%s); next attempt in %.1fs", exc, delay)
                delay = min(delay * 2, self.settings.reconnect_max_delay)
                continue
            logger.info("reconnected to Janus at %s", self.settings.ws_url)
            self._notify_state(True)
            return

    async def _keepalive_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.keepalive_interval)
            for session_id in list(self._sessions):
                try:
                    await self.request({"janus": "keepalive", "session_id": session_id}, ack_is_final=True)
                except MediaRequestFailed as exc:
                    logger.info("dropping session %s after keepalive failure: %s", session_id, exc.reason)
                    self.forget_session(session_id)
                except MediaNodeUnavailable:
                    break

    def _notify_state(self, up: bool) -> None:
        for listener in list(self._state_listeners):
            try:
                listener(up)
            except Exception:
                logger.exception("Janus state listener failed")

    def _on_unmatched(self, message: JsonObject) -> None:
        kind = str(message.get("janus", ""))
        session_id = message.get("session_id")
        if kind == "timeout" and isinstance(session_id, int):
            self.forget_session(session_id)
        plugindata = message.get("plugindata") or {}
        event = JanusEvent(
            janus=kind,
            session_id=session_id if isinstance(session_id, int) else None,
            handle_id=message.get("sender") if isinstance(message.get("sender"), int) else None,
            plugin=plugindata.get("plugin"),
            data=dict(plugindata.get("data") or {}),
            jsep=message.get("jsep"),
            raw=message,
        )
        for listener in list(self._event_listeners):
            try:
                listener(event)
            except Exception:
                logger.exception("Janus event listener failed for %s", kind)


class JanusAdminClient:
    """Client for the Janus admin API (``janus-admin-protocol``), used for load data.

    The admin API has no sessions of its own to keep alive, so a lost socket is simply
    reopened on the next call instead of by a background task.
    """

    def __init__(
        self, url: str, admin_secret: str, *, connect_timeout: float, request_timeout: float
    ) -> None:
        self._url = url
        self._secret = admin_secret
        self._connect_timeout = connect_timeout
        self._request_timeout = request_timeout
        self._channel: _Channel | None = None
        self._lock = asyncio.Lock()

    async def request(self, janus: str, **fields: Any) -> JsonObject:
        channel = await self._ensure_channel()
        message = {"janus": janus, "admin_secret": self._secret, **fields}
        return await channel.request(message, reply_timeout=self._request_timeout, ack_is_final=False)

    async def info(self) -> JsonObject:
        return await self.request("info")

    async def list_sessions(self) -> list[int]:
        return [int(s) for s in (await self.request("list_sessions")).get("sessions", [])]

    async def list_handles(self, session_id: int) -> list[int]:
        return [
            int(h) for h in (await self.request("list_handles", session_id=session_id)).get("handles", [])
        ]

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    async def _ensure_channel(self) -> _Channel:
        async with self._lock:
            if self._channel is None or not self._channel.is_open:
                channel = _Channel(
                    self._url,
                    ADMIN_SUBPROTOCOL,
                    connect_timeout=self._connect_timeout,
                    on_unmatched=lambda message: logger.debug("unmatched admin message %s", message),
                    on_closed=lambda: None,
                )
                await channel.open()
                self._channel = channel
            return self._channel

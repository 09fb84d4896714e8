"""Live room state and media orchestration for the participants connected to this server.

Durable facts (who is in which session) live in the database and change only through
``SessionService``; this layer owns what cannot be stored: sockets, Janus handles, feeds,
waiting rooms and timers. Kicks, moderated mutes and session ends — whether a moderator's
socket or the REST API asked for them — reach it as committed domain events on the bus, so
there is one path for their side effects.

A room's live state lives in the process that started its session: with several replicas,
joins for one room must reach the same replica (sticky routing by room).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from conclave.access.service import AccessService
from conclave.access.verifier import unverified_room_id
from conclave.chat.service import ChatService, message_view
from conclave.events.service import EventLogService
from conclave.kit.errors import ConclaveError, ValidationFailed
from conclave.kit.events import DomainEvent, EventBus
from conclave.kit.ids import new_id
from conclave.kit.sqlite_inline import yielding_while
from conclave.kit.text_input import has_unstorable, unstorable_text
from conclave.kit.time import isoformat
from conclave.kit.transaction import transaction
from conclave.media.nodes import MediaNodes
from conclave.media.port import (
    IceCandidate,
    MediaError,
    MediaEvent,
    MediaEventKind,
    MediaHandle,
    MediaNodeUnavailable,
    MediaRequestFailed,
    MediaServer,
    SubscribeOffer,
)
from conclave.realtime import protocol as p
from conclave.rooms.models import Room
from conclave.rooms.service import RoomService
from conclave.sessions.models import Participant
from conclave.sessions.service import JoinRefused, JoinTicket, SessionService

log = logging.getLogger(__name__)

HandleKey = tuple[int, int]
MAX_EARLY_EVENTS = 64
MAX_EARLY_HANDLES = 256
# Subscribers prepared for sockets that have not sent ``join`` yet. They are asked of Janus before
# the token is checked, so an unauthenticated client could make Janus work: this bounds it.
MAX_PREPARED_SUBSCRIPTIONS = 32


@dataclass(frozen=True)
class PeerContext:
    """Who sent an extension message, as the handling domain needs to know it."""

    participant_id: str
    project_id: str
    room_id: str
    session_id: str | None
    name: str
    role: str
    permissions: dict[str, bool]
    settings: dict[str, Any]


ExtensionHandler = Callable[[PeerContext, Any], Awaitable[dict[str, Any] | None]]
# A domain's translation of one of its committed events into what a participant is sent (or None).
Replayer = Callable[[DomainEvent, str], dict[str, Any] | None]


def _key(handle: MediaHandle) -> HandleKey:
    return (handle.session_id, handle.handle_id)


@dataclass(eq=False)
class Peer:
    """One admitted participant's live connection."""

    participant_id: str
    project_id: str
    room_id: str
    name: str
    role: str
    permissions: dict[str, bool]
    socket: WebSocket
    settings: dict[str, Any] = field(default_factory=dict)
    publisher: MediaHandle | None = None
    feed_id: int | None = None
    subscriber: MediaHandle | None = None
    subscribed_feeds: set[int] = field(default_factory=set)
    wants_subscription: bool = False
    blocked: tuple[bool, bool] = (False, False)  # (audio, video) blocked in Janus by a moderator
    gone: bool = False
    _send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Serialises creating and growing the subscriber: a feed announced meanwhile waits its turn
    # instead of opening a second subscriber or subscribing the same feed twice.
    subscription_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, message: dict[str, Any]) -> None:
        if self.gone:
            return
        async with self._send_lock:
            try:
                await self.socket.send_json(message)
            except Exception:  # the socket went away under us; its reader notices and cleans up
                self.gone = True

    async def close(self, code: int, reason: str = "") -> None:
        self.gone = True
        if self.socket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await self.socket.close(code=code, reason=reason[:120])


Authorize = Callable[[AsyncSession], Awaitable[JoinTicket]]


@dataclass(eq=False)
class EarlySubscription:
    """A joiner's subscriber, asked of Janus while its admission is still being written."""

    node_name: str
    room_key: str
    feeds: frozenset[int]
    offer: asyncio.Task[SubscribeOffer]


@dataclass(eq=False)
class Waiter:
    id: str
    ticket: JoinTicket
    decision: asyncio.Future[bool]


@dataclass(eq=False)
class RoomRuntime:
    room_id: str
    project_id: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    session_id: str | None = None
    node_name: str | None = None
    room_key: str | None = None
    peers: dict[str, Peer] = field(default_factory=dict)
    feeds: dict[int, str] = field(default_factory=dict)
    waiters: dict[str, Waiter] = field(default_factory=dict)
    grace: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    empty_timer: asyncio.Task[None] | None = None
    length_timer: asyncio.Task[None] | None = None
    recording: dict[str, Any] | None = None


def _client_ip(socket: WebSocket) -> str | None:
    return socket.client.host if socket.client else None


class RealtimeError(ConclaveError):
    """A request on an open socket was refused; the socket stays open."""


async def receive_text(socket: WebSocket) -> str:
    """The next text frame. A binary frame is a protocol error the client is told about, where
    Starlette's ``receive_text`` fails with a ``KeyError`` and drops the connection."""
    message = await socket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text: str | None = message.get("text")
    if text is None:
        raise RealtimeError(
            "binary frames are not part of the protocol: send JSON text frames", code="invalid_message"
        )
    return text


class Realtime:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        sessions: SessionService,
        rooms: RoomService,
        access: AccessService,
        nodes: MediaNodes,
        chat: ChatService,
        events: EventLogService,
        *,
        grace_seconds: float = 20.0,
        default_empty_timeout: float = 60.0,
        heartbeat_seconds: float = 15.0,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.sessions = sessions
        self.rooms = rooms
        self.access = access
        self.nodes = nodes
        self.chat = chat
        self.events = events
        self.replayers: dict[str, Replayer] = {}
        self.grace_seconds = grace_seconds
        self.default_empty_timeout = default_empty_timeout
        self.heartbeat_seconds = heartbeat_seconds
        self.runtimes: dict[str, RoomRuntime] = {}
        self._early: dict[HandleKey, list[MediaEvent]] = {}
        self._prepared: set[EarlySubscription] = set()
        self.extensions: dict[str, tuple[type[BaseModel], ExtensionHandler]] = {}
        self.handles: dict[HandleKey, Peer] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        bus.subscribe(self._on_event)
        nodes.listen(self._on_media)

    # -- extensions --------------------------------------------------------------------------

    def register_message(self, type_name: str, model: type[BaseModel], handler: ExtensionHandler) -> None:
        """Let a domain (polls, Q&A, captions …) accept its own client message type.

        ``model`` must have a ``type: Literal[type_name]`` field and an optional ``id``; the
        handler runs with the sender's context and returns the reply (or None). Side effects
        to other participants go through domain events and :meth:`broadcast_to_room`.
        """
        if type_name in self.extensions or type_name in p.CORE_TYPES:
            raise ValueError(f"realtime message type {type_name!r} is already registered")
        self.extensions[type_name] = (model, handler)

    def register_replay(self, prefix: str, replayer: Replayer) -> None:
        """Let a late joiner catch up on a domain's live state (a running poll, the questions …).

        After ``joined``, the session's stored events whose type starts with ``prefix`` are
        translated by ``replayer`` — the same translation the domain uses for its live
        broadcasts — and sent to the joiner in order.
        """
        self.replayers[prefix] = replayer

    async def _replay(
        self, peer: Peer, session_id: str, *, used_token: tuple[str, str | None] | None = None
    ) -> None:
        """Send a late joiner what it missed. ``used_token`` (jti, ip) is noted in the same
        transaction: the first use of a token is bookkeeping, kept off the join's critical path."""
        if not self.replayers and used_token is None:
            return
        prefixes = tuple(self.replayers)
        async with self.tx() as db:
            if used_token is not None:
                await self.access.record_token_use(db, peer.project_id, *used_token)
            history = []
            if prefixes:
                history = await self.events.session_events(db, peer.project_id, session_id, prefixes)
        for event in history:
            replayer = next(
                (r for prefix, r in self.replayers.items() if event.type.startswith(prefix)), None
            )
            message = replayer(event, peer.participant_id) if replayer else None
            if message is not None:
                await peer.send(message)

    def parse(self, raw: str) -> Any:
        """Decode one client frame: core protocol messages first, then registered extensions."""
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            raise RealtimeError("invalid message: malformed JSON", code="invalid_message") from None
        if has_unstorable(data):
            refused = unstorable_text()
            raise RealtimeError(f"invalid message: {refused.message}", code=refused.code)
        kind = data.get("type") if isinstance(data, dict) else None
        try:
            if isinstance(kind, str) and kind in self.extensions:
                return self.extensions[kind][0].model_validate(data)
            return p.client_message.validate_python(data)
        except ValidationError as exc:
            raise RealtimeError(
                f"invalid message: {exc.errors()[0]['msg']}", code="invalid_message"
            ) from None

    # -- lifecycle ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncSession]:
        async with transaction(self.sessionmaker, self.bus) as db:
            yield db

    async def start(self, *, stale_after: timedelta | None) -> list[str]:
        """Close what a previous crash left open, then keep this instance's sessions alive."""
        async with self.tx() as db:
            closed = await self.sessions.close_stale(db, stale_after=stale_after)
        if closed:
            log.info("closed %d session(s) left open by a previous run", len(closed))
        self._heartbeat = asyncio.create_task(self._beat())
        return closed

    async def stop(self) -> None:
        if self._heartbeat:
            self._heartbeat.cancel()
        for runtime in list(self.runtimes.values()):
            for peer in list(runtime.peers.values()):
                await peer.close(1001, "server shutting down")
        for task in list(self._tasks):
            task.cancel()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                async with self.tx() as db:
                    await self.sessions.heartbeat(db)
            except Exception:
                log.exception("session heartbeat failed")

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _runtime(self, room_id: str, project_id: str) -> RoomRuntime:
        runtime = self.runtimes.get(room_id)
        if runtime is None:
            runtime = self.runtimes[room_id] = RoomRuntime(room_id=room_id, project_id=project_id)
        return runtime

    def _node(self, runtime: RoomRuntime) -> MediaServer:
        if runtime.node_name is None or runtime.room_key is None:
            raise RealtimeError("the room has no media session", code="media_unavailable")
        return self.nodes.get(runtime.node_name)

    # -- admission ---------------------------------------------------------------------------

    def _live_runtime(self, token: str | None, room_ref: str | None) -> RoomRuntime | None:
        """The room a join names (the token's room, or a room id), if its session runs here.

        Nothing is checked yet: the caller's admission decides.
        """
        runtime = self.runtimes.get((unverified_room_id(token) if token else room_ref) or "")
        return runtime if runtime is not None and runtime.session_id is not None else None

    def prepare_subscription(self, token: str | None, room_ref: str | None) -> EarlySubscription | None:
        """Start a joiner's subscriber while its socket is still opening (``/rtc?subscribe=1``).

        Only for a room live here with feeds to receive, and only a bounded number at a time: the
        join is not checked yet. Hand the result to :meth:`admit`, which adopts or discards it, or
        to :meth:`discard_prepared` when no ``join`` comes.
        """
        if len(self._prepared) >= MAX_PREPARED_SUBSCRIPTIONS:
            return None
        runtime = self._live_runtime(token, room_ref)
        if runtime is None:
            return None
        early = self._early_subscription(runtime)
        if early is not None:
            self._prepared.add(early)
        return early

    def discard_prepared(self, early: EarlySubscription | None) -> None:
        if early is not None:
            self._prepared.discard(early)
            self._spawn(self._discard_early(early))

    async def admit(
        self,
        socket: WebSocket,
        join: p.Join,
        *,
        token: str | None,
        room_ref: str | None,
        prepared: EarlySubscription | None = None,
    ) -> Peer | None:
        """Admit a socket that sent ``join``: returns its peer, or None if it was denied or left.

        ``prepared`` (from :meth:`prepare_subscription`) becomes the joiner's subscriber when the
        join asks for one and the room is live here; otherwise it is torn down.
        """
        live = None if join.resume else self._live_runtime(token, room_ref)
        if prepared is not None and (live is None or not join.subscribe):
            self.discard_prepared(prepared)
            prepared = None
        if prepared is not None:
            self._prepared.discard(prepared)  # claimed: the admission adopts it or tears it down
        if join.resume:
            return await self._resume(socket, join.resume, subscribe=join.subscribe)
        ip = _client_ip(socket)

        async def authorize(db: AsyncSession) -> JoinTicket:
            return await self.sessions.authorize(
                db, token=token, room_ref=room_ref, display_name=join.display_name, ip=ip
            )

        if live is not None:
            # The room is live here: check the join and count the joiner in one transaction.
            # SQLite statements run on the loop without yielding (kit.sqlite_inline); while the
            # prepared subscriber is still being set up, they let Janus's replies through.
            with yielding_while(prepared.offer) if prepared else contextlib.nullcontext():
                peer = await self._enter(socket, live, authorize, subscribe=join.subscribe, prepared=prepared)
            if peer is not None:
                return peer  # otherwise the room is locked: the joiner goes to the waiting room
        async with self.tx() as db:
            ticket = await authorize(db)
        runtime = self._runtime(ticket.room_id, ticket.project_id)
        if ticket.needs_admission and not await self._wait_for_admission(socket, runtime, ticket):
            return None
        return await self._enter(socket, runtime, ticket, subscribe=join.subscribe)

    async def _enter(
        self,
        socket: WebSocket,
        runtime: RoomRuntime,
        admission: JoinTicket | Authorize,
        *,
        subscribe: bool,
        prepared: EarlySubscription | None = None,
    ) -> Peer | None:
        """Count the joiner in and send ``joined`` (then its first offer, then the replay).

        ``admission`` is a ticket checked earlier (or a moderator's admission), or the check itself,
        to run in the same transaction; that check's joiner may need the waiting room, in which
        case nothing is written and the result is None. ``prepared`` is adopted or torn down.
        """
        registered = await self._register(socket, runtime, admission, subscribe, prepared)
        if registered is None:
            return None
        peer, welcome, early, jti = registered
        await peer.send(welcome)
        if subscribe:
            await self._subscribe_on_join(runtime, peer, early)
        used_token = (jti, _client_ip(socket)) if jti else None
        await self._replay(peer, welcome["session_id"], used_token=used_token)
        return peer

    async def _register(
        self,
        socket: WebSocket,
        runtime: RoomRuntime,
        admission: JoinTicket | Authorize,
        subscribe: bool,
        prepared: EarlySubscription | None = None,
    ) -> tuple[Peer, dict[str, Any], EarlySubscription | None, str | None] | None:
        """Count the joiner in (starting the session if needed) and make it a peer of the room.

        With ``subscribe`` the joiner's subscriber is asked of Janus once the token is checked, and
        the peer is registered holding its subscription lock, which :meth:`_subscribe_on_join`
        releases: feeds announced in between wait for the first offer.
        """
        early = prepared
        try:
            async with runtime.lock:
                node_name = runtime.node_name
                if node_name is None:
                    if not self.nodes:
                        raise JoinRefused(
                            "no media server is configured", code="media_unavailable", close_code=4503
                        )
                    try:
                        node_name = await self.nodes.pick()
                    except MediaNodeUnavailable as exc:
                        raise JoinRefused(str(exc), code="media_unavailable", close_code=4503) from None
                async with self.tx() as db:
                    if isinstance(admission, JoinTicket):
                        ticket = admission
                    else:
                        ticket = await admission(db)
                        if ticket.needs_admission or ticket.room_id != runtime.room_id:
                            self.discard_prepared(early)
                            return None  # nothing written: the transaction changes nothing
                    if subscribe and early is None:
                        early = self._early_subscription(runtime)
                    entered = await self.sessions.enter(
                        db,
                        ticket,
                        ip=_client_ip(socket),
                        user_agent=socket.headers.get("user-agent"),
                        media_node=node_name,
                    )
                    if entered.started:
                        try:
                            await self.nodes.get(node_name).create_room(
                                entered.session.media_room_key,
                                audio_only=entered.room.kind == "audio",
                                max_publishers=max(entered.room.max_participants, 1),
                                record_dir=None,
                            )
                        except MediaError as exc:
                            raise JoinRefused(
                                f"the media server refused the room: {exc}",
                                code="media_unavailable",
                                close_code=4503,
                            ) from None
                        runtime.session_id = entered.session.id
                        runtime.node_name = node_name
                        runtime.room_key = entered.session.media_room_key
                        self._schedule_length_timer(runtime, entered.room.session_length * 60.0)
                    peer, welcome = await self._welcome(
                        db,
                        runtime,
                        socket,
                        entered.participant,
                        entered.room,
                        ticket.permissions,
                        resumed=False,
                        others=entered.others,
                    )
                if runtime.empty_timer:
                    runtime.empty_timer.cancel()
                    runtime.empty_timer = None
                if subscribe:
                    await self._hold_for_first_offer(peer)
                runtime.peers[peer.participant_id] = peer
        except BaseException:
            self.discard_prepared(early)
            raise
        return peer, welcome, early, ticket.jti

    # -- subscribing as part of join -----------------------------------------------------------

    def _early_subscription(self, runtime: RoomRuntime) -> EarlySubscription | None:
        """Start the joiner's Janus subscriber now, so that it overlaps the admission.

        Asked at the socket's opening (:meth:`prepare_subscription`) it overlaps the WebSocket
        handshake and the wait for ``join`` too; asked during the admission, the overlap is real on
        PostgreSQL, whose statements wait on the network, while SQLite statements run on the loop
        without yielding (``kit.sqlite_inline``), so there Janus gets going only once the
        transaction is done. Only for a room whose session already runs here with feeds to
        receive. The offer is sent only once the joiner is in (:meth:`_subscribe_on_join`), and a
        refused join tears the subscriber down again (:meth:`_discard_early`).
        """
        if runtime.node_name is None or runtime.room_key is None or not runtime.feeds:
            return None
        try:
            node = self.nodes.get(runtime.node_name)
        except MediaError:
            return None
        feeds = list(runtime.feeds)
        offer = self._spawn(node.subscribe(runtime.room_key, feeds))
        return EarlySubscription(runtime.node_name, runtime.room_key, frozenset(feeds), offer)

    @staticmethod
    async def _hold_for_first_offer(peer: Peer) -> None:
        """Mark ``peer`` as subscribing and take its (new, so free) subscription lock, which
        :meth:`_subscribe_on_join` releases once the first offer is out."""
        peer.wants_subscription = True
        await peer.subscription_lock.acquire()

    async def _discard_early(self, early: EarlySubscription) -> None:
        with contextlib.suppress(MediaError):
            offer = await early.offer
            await self.nodes.get(early.node_name).leave(offer.handle)

    async def _subscribe_on_join(
        self, runtime: RoomRuntime, peer: Peer, early: EarlySubscription | None
    ) -> None:
        """Send the joiner its first ``subscriber_offer``; the caller holds the subscription lock."""
        try:
            offer: SubscribeOffer | None = None
            if early is not None:
                try:
                    offer = await early.offer
                except MediaError:
                    offer = None  # e.g. a feed not usable yet: the regular path below retries
                if offer is not None and (
                    early.room_key != runtime.room_key or runtime.peers.get(peer.participant_id) is not peer
                ):
                    self._spawn(self._discard_early(early))
                    offer = None
            if runtime.peers.get(peer.participant_id) is not peer:
                return  # kicked or gone while the subscriber was being set up
            if offer is not None and early is not None:
                peer.subscriber = offer.handle
                peer.subscribed_feeds.update(early.feeds & runtime.feeds.keys())  # some may be gone
                self._adopt(offer.handle, peer)
                await peer.send(self._offer_message(runtime, offer))
            await self._add_feeds_locked(runtime, peer, self._feeds_for(runtime, peer))
        finally:
            peer.subscription_lock.release()

    async def _welcome(
        self,
        db: AsyncSession,
        runtime: RoomRuntime,
        socket: WebSocket,
        participant: Participant,
        room: Room,
        permissions: dict[str, bool],
        *,
        resumed: bool,
        others: list[Participant] | None = None,
    ) -> tuple[Peer, dict[str, Any]]:
        """The participant's peer and its ``joined`` message: one shape for joins and resumes.

        ``others`` are the other participants present, when the caller has them already. The
        caller registers the peer once its transaction has committed.
        """
        if others is None:
            others = await self.sessions.present_participants(
                db, participant.project_id, participant.session_id
            )
        history = await self.chat.history_for(
            db, participant, earlier_sessions=bool(room.settings.get("chat_persistence_enabled"))
        )
        peer = Peer(
            participant_id=participant.id,
            project_id=participant.project_id,
            room_id=participant.room_id,
            name=participant.name,
            role=participant.role,
            permissions=permissions,
            socket=socket,
            settings=dict(room.settings),
        )
        welcome = {
            "type": "joined",
            "participant": p.participant_view(participant),
            "session_id": participant.session_id,
            "room": {
                "id": room.id,
                "friendly_url": room.friendly_url,
                "name": room.name,
                "kind": room.kind,
                "is_locked": room.is_locked,
                "settings": room.settings,
            },
            "chat": [message_view(m) for m in history],
            "recording": runtime.recording,
            "permissions": permissions,
            "resume_token": participant.resume_token,
            "resumed": resumed,
            "participants": [p.participant_view(o) for o in others if o.id != participant.id],
            "feeds": [{"feed_id": f, "participant_id": pid} for f, pid in runtime.feeds.items()],
        }
        return peer, welcome

    async def _wait_for_admission(self, socket: WebSocket, runtime: RoomRuntime, ticket: JoinTicket) -> bool:
        waiter = Waiter(id=new_id(), ticket=ticket, decision=asyncio.get_running_loop().create_future())
        runtime.waiters[waiter.id] = waiter
        await socket.send_json({"type": "waiting"})
        await self._broadcast(
            runtime,
            {
                "type": "participant_waiting",
                "participant": {
                    "id": waiter.id,
                    "name": ticket.name,
                    "role": ticket.role,
                    "external_id": ticket.external_id,
                },
            },
            only=lambda peer: peer.permissions.get("admit_participants", False),
        )
        present = False  # until the wait ends with the client still there
        try:
            present = await self._wait_for_decision(socket, waiter)
        finally:
            runtime.waiters.pop(waiter.id, None)
            admitted = present and waiter.decision.result()
            outcome = ("admitted" if admitted else "denied") if present else "gone"
            await self._broadcast(
                runtime,
                {"type": "participant_waiting_resolved", "participant_id": waiter.id, "outcome": outcome},
                only=lambda peer: peer.permissions.get("admit_participants", False),
            )
        if not present:
            return False  # the client left or went away before anyone decided
        if admitted:
            await socket.send_json({"type": "admitted"})
            return True
        await socket.send_json({"type": "denied"})
        await socket.close(code=p.CLOSE_DENIED, reason="not admitted")
        return False

    async def _wait_for_decision(self, socket: WebSocket, waiter: Waiter) -> bool:
        """Wait for a moderator, answering the client meanwhile: a wait can last minutes, so
        ``ping`` gets its ``pong``; ``leave`` withdraws (close 1000); anything else is an error
        and the wait goes on. False when the client left or went away, which wins over a
        decision made in the same instant."""
        while True:
            receive: asyncio.Future[Any] = asyncio.ensure_future(receive_text(socket))
            pending: set[asyncio.Future[Any]] = {waiter.decision, receive}
            try:
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            finally:
                receive.cancel()  # no effect once a frame has arrived
            if receive not in done:
                return True  # decided while the client was silent
            if not await self._answer_while_waiting(socket, receive):
                return False
            if waiter.decision.done():
                return True

    async def _answer_while_waiting(self, socket: WebSocket, receive: asyncio.Future[Any]) -> bool:
        """Answer one frame of a waiting client; False when it left or went away."""
        try:
            message = self.parse(receive.result())
        except WebSocketDisconnect:
            return False
        except RealtimeError as exc:
            await socket.send_json(p.error_frame(exc.code, exc.message))
            return True
        if isinstance(message, p.Leave):
            await socket.close(code=1000, reason="left")
            return False
        if isinstance(message, p.Ping):
            await socket.send_json(p.answer({"type": "pong"}, message))
            return True
        await socket.send_json(
            p.error_frame(
                "waiting_for_admission",
                "a moderator has not admitted you yet: only 'ping' and 'leave' are accepted",
                message,
            )
        )
        return True

    async def _resume(self, socket: WebSocket, resume_token: str, *, subscribe: bool) -> Peer:
        async with self.tx() as db:
            participant = await self.sessions.find_resumable(db, resume_token)
            runtime = self.runtimes.get(participant.room_id)
            if runtime is None or runtime.session_id != participant.session_id:
                raise JoinRefused(
                    "the session is not running here any more", code="resume_expired", close_code=4403
                )
            participant = await self.sessions.resume(db, resume_token)
            role = await self.access.get_role(db, participant.project_id, participant.role)
            room = await self.rooms.find_for_join(db, room_id=participant.room_id, ref=None)
            peer, welcome = await self._welcome(
                db, runtime, socket, participant, room, role.permissions, resumed=True
            )
        timer = runtime.grace.pop(participant.id, None)
        if timer:
            timer.cancel()
        old = runtime.peers.pop(participant.id, None)
        if old is not None:
            await self._release_media(runtime, old)
            await old.close(p.CLOSE_REPLACED, "resumed elsewhere")
        if subscribe:
            await self._hold_for_first_offer(peer)
        runtime.peers[peer.participant_id] = peer
        await peer.send(welcome)
        if subscribe:
            await self._subscribe_on_join(runtime, peer, None)
        await self._replay(peer, welcome["session_id"])
        return peer

    # -- requests on an open socket ----------------------------------------------------------

    async def handle(self, peer: Peer, message: Any) -> None:
        runtime = self.runtimes.get(peer.room_id)
        if runtime is None or peer.participant_id not in runtime.peers:
            raise RealtimeError("you are no longer in this room", code="not_in_room")
        handlers: dict[type, Callable[[Peer, RoomRuntime, Any], Awaitable[dict[str, Any] | None]]] = {
            p.Publish: self._publish,
            p.Unpublish: self._unpublish_request,
            p.Subscribe: self._subscribe,
            p.SubscriberAnswer: self._subscriber_answer,
            p.Trickle: self._trickle,
            p.Mute: self._mute,
            p.Moderate: self._moderate,
            p.Ping: self._ping,
            p.Chat: self._chat,
            p.Hand: self._hand,
            p.Reaction: self._reaction,
        }
        if type(message) in handlers:
            reply = await handlers[type(message)](peer, runtime, message)
        else:
            _, extension = self.extensions[message.type]
            context = PeerContext(
                participant_id=peer.participant_id,
                project_id=peer.project_id,
                room_id=peer.room_id,
                session_id=runtime.session_id,
                name=peer.name,
                role=peer.role,
                permissions=peer.permissions,
                settings=peer.settings,
            )
            reply = await extension(context, message)
        if reply is not None:
            await peer.send(p.answer(reply, message))

    @staticmethod
    def _require(peer: Peer, permission: str) -> None:
        if not peer.permissions.get(permission, False):
            raise RealtimeError(f"your role ({peer.role}) may not do this: {permission}", code="not_allowed")

    @staticmethod
    def _require_setting(peer: Peer, setting: str) -> None:
        if not peer.settings.get(setting, False):
            raise RealtimeError(f"this room has {setting} off", code="feature_disabled")

    async def _chat(self, peer: Peer, runtime: RoomRuntime, message: p.Chat) -> dict[str, Any]:
        self._require(peer, "chat")
        self._require_setting(peer, "chat_enabled")
        async with self.tx() as db:
            sender = await self.sessions.get_participant(db, peer.project_id, peer.participant_id)
            await self.chat.post_from_participant(db, sender, message.message, to=message.to)
        return {"type": "ok"}

    async def _hand(self, peer: Peer, runtime: RoomRuntime, message: p.Hand) -> dict[str, Any]:
        self._require(peer, "raise_hand")
        self._require_setting(peer, "raise_hand_enabled")
        async with self.tx() as db:
            await self.sessions.set_hand(db, peer.project_id, peer.participant_id, message.raised)
        return {"type": "ok"}

    async def _reaction(self, peer: Peer, runtime: RoomRuntime, message: p.Reaction) -> dict[str, Any]:
        self._require(peer, "emoji_reactions")
        self._require_setting(peer, "room_reactions_enabled")
        reaction = {"type": "reaction", "participant_id": peer.participant_id, "emoji": message.emoji}
        await self._broadcast(runtime, reaction)
        return {"type": "ok"}

    async def set_recording(
        self, room_id: str, *, enabled: bool, record_dir: str | None, recording_id: str, mode: str
    ) -> str:
        """Switch the room's media recording on or off; returns the media room key the files carry.

        Called by the recordings service inside its transaction, so a refusal (no live session,
        media error) rolls its rows back.
        """
        runtime = self.runtimes.get(room_id)
        if runtime is None or runtime.session_id is None or runtime.room_key is None:
            raise RealtimeError("the room has no live session", code="no_live_session")
        try:
            await self._node(runtime).set_recording(runtime.room_key, enabled, record_dir=record_dir)
        except MediaError as exc:
            raise RealtimeError(f"the media server refused: {exc}", code="media_error") from None
        runtime.recording = {"recording_id": recording_id, "mode": mode} if enabled else None
        kind = "recording_started" if enabled else "recording_stopped"
        await self._broadcast(runtime, {"type": kind, "recording_id": recording_id, "mode": mode})
        return runtime.room_key

    def live_media(self, room_id: str) -> tuple[str, str, MediaServer] | None:
        """(session id, media room key, node) of a room live on this server, for media jobs."""
        runtime = self.runtimes.get(room_id)
        if (
            runtime is None
            or runtime.session_id is None
            or runtime.room_key is None
            or runtime.node_name is None
        ):
            return None
        return runtime.session_id, runtime.room_key, self.nodes.get(runtime.node_name)

    async def broadcast_to_room(self, room_id: str, message: dict[str, Any]) -> None:
        """Send a server event (a live caption, a poll, ...) to everyone in a room on this server."""
        runtime = self.runtimes.get(room_id)
        if runtime is not None:
            await self._broadcast(runtime, message)

    async def _ping(self, peer: Peer, runtime: RoomRuntime, message: p.Ping) -> dict[str, Any]:
        return {"type": "pong"}

    async def _publish(self, peer: Peer, runtime: RoomRuntime, message: p.Publish) -> None:
        self._require(peer, "broadcast" if (message.audio or message.video) else "screenshare")
        if peer.publisher is not None:
            raise RealtimeError("already publishing: unpublish first", code="already_publishing")
        node = self._node(runtime)
        assert runtime.room_key is not None
        try:
            result = await node.join_publisher(runtime.room_key, peer.participant_id, message.sdp)
        except MediaError as exc:
            raise RealtimeError(f"the media server refused the offer: {exc}", code="media_error") from None
        peer.publisher, peer.feed_id = result.handle, result.feed_id
        self._adopt(result.handle, peer)
        async with self.tx() as db:
            await self.sessions.set_feed(db, peer.project_id, peer.participant_id, result.feed_id)
        await peer.send(
            p.answer({"type": "published", "feed_id": result.feed_id, "sdp": result.sdp_answer}, message)
        )
        # The feed is announced when its PeerConnection is up (WEBRTC_UP): Janus refuses to
        # subscribe anyone to a publisher whose media has not started ("No such feed").

    def _adopt(self, handle: MediaHandle, peer: Peer) -> None:
        """Route the handle's media events to ``peer``, replaying candidates that came early."""
        self.handles[_key(handle)] = peer
        for event in self._early.pop(_key(handle), []):
            self._on_media("", event)
        if len(self._early) > MAX_EARLY_HANDLES:  # handles that were never adopted (failed requests)
            self._early.clear()

    async def _announce_feed(self, runtime: RoomRuntime, peer: Peer) -> None:
        feed = peer.feed_id
        if feed is None or feed in runtime.feeds or runtime.peers.get(peer.participant_id) is not peer:
            return
        runtime.feeds[feed] = peer.participant_id
        await self._broadcast(
            runtime,
            {"type": "feed_published", "feed_id": feed, "participant_id": peer.participant_id},
            exclude=peer.participant_id,
        )
        for other in list(runtime.peers.values()):
            if other is not peer and other.wants_subscription:
                await self._add_feeds(runtime, other)

    async def _unpublish_request(
        self, peer: Peer, runtime: RoomRuntime, message: p.Unpublish
    ) -> dict[str, Any]:
        if peer.publisher is None:
            raise RealtimeError("not publishing", code="not_publishing")
        await self._drop_publisher(runtime, peer, tear_down=True)
        return {"type": "unpublished"}

    async def _subscribe(
        self, peer: Peer, runtime: RoomRuntime, message: p.Subscribe
    ) -> dict[str, Any] | None:
        peer.wants_subscription = True
        if peer.subscriber is None and self._feeds_for(runtime, peer):
            await self._add_feeds(runtime, peer)
            return None
        return {"type": "ok"}

    @staticmethod
    def _feeds_for(runtime: RoomRuntime, peer: Peer) -> list[int]:
        """The room's feeds that ``peer`` should receive and does not yet."""
        return [
            feed
            for feed, owner in runtime.feeds.items()
            if owner != peer.participant_id and feed not in peer.subscribed_feeds
        ]

    async def _add_feeds(self, runtime: RoomRuntime, peer: Peer) -> None:
        async with peer.subscription_lock:
            await self._add_feeds_locked(runtime, peer, self._feeds_for(runtime, peer))

    async def _add_feeds_locked(self, runtime: RoomRuntime, peer: Peer, feeds: list[int]) -> None:
        if not feeds:
            return
        node = self._node(runtime)
        assert runtime.room_key is not None
        offer: SubscribeOffer | None = None
        for attempt in range(6):
            try:
                if peer.subscriber is None:
                    offer = await node.subscribe(runtime.room_key, feeds)
                    peer.subscriber = offer.handle
                    self._adopt(offer.handle, peer)
                else:
                    offer = await node.update_subscription(peer.subscriber, add=feeds)
                peer.subscribed_feeds.update(feeds)
                break
            except MediaError as exc:
                # 428 "No such feed": the feed's media is up but not yet usable inside the room.
                retry = isinstance(exc, MediaRequestFailed) and exc.code == 428 and attempt < 5
                if not retry:
                    await peer.send(p.error_frame("media_error", f"subscription failed: {exc}"))
                    return
                await asyncio.sleep(0.1 * 2**attempt)
        if offer is not None:
            await peer.send(self._offer_message(runtime, offer))

    @staticmethod
    def _offer_message(runtime: RoomRuntime, offer: SubscribeOffer) -> dict[str, Any]:
        return {
            "type": "subscriber_offer",
            "sdp": offer.sdp_offer,
            "streams": [
                {
                    "mid": s.mid,
                    "kind": s.kind,
                    "feed_id": s.feed_id,
                    "participant_id": runtime.feeds.get(s.feed_id),
                }
                for s in offer.streams
            ],
        }

    async def _subscriber_answer(
        self, peer: Peer, runtime: RoomRuntime, message: p.SubscriberAnswer
    ) -> dict[str, Any]:
        if peer.subscriber is None:
            raise RealtimeError("no subscriber offer to answer", code="no_subscription")
        try:
            await self._node(runtime).start_subscriber(peer.subscriber, message.sdp)
        except MediaError as exc:
            raise RealtimeError(f"the media server refused the answer: {exc}", code="media_error") from None
        return {"type": "ok"}

    async def _trickle(self, peer: Peer, runtime: RoomRuntime, message: p.Trickle) -> dict[str, Any] | None:
        handle = peer.publisher if message.target == "publisher" else peer.subscriber
        if handle is None:
            raise RealtimeError(f"no {message.target} connection to trickle to", code="no_peer_connection")
        candidate = None
        if message.candidate is not None:
            c = message.candidate
            candidate = IceCandidate(
                candidate=c.candidate, sdp_mid=c.sdp_mid, sdp_mline_index=c.sdp_mline_index
            )
        try:
            await self._node(runtime).trickle(handle, candidate)
        except MediaError as exc:
            raise RealtimeError(f"trickle failed: {exc}", code="media_error") from None
        return None

    async def _mute(self, peer: Peer, runtime: RoomRuntime, message: p.Mute) -> dict[str, Any]:
        async with self.tx() as db:
            await self.sessions.set_muted(
                db, peer.project_id, peer.participant_id, audio=message.audio, video=message.video
            )
        return {"type": "ok"}

    async def _moderate(self, peer: Peer, runtime: RoomRuntime, message: p.Moderate) -> dict[str, Any]:
        action = message.action
        permission = {
            "mute": "mute_participants",
            "kick": "remove_participants",
            "admit": "admit_participants",
            "deny": "admit_participants",
            "lock": "lock_room",
            "unlock": "lock_room",
            "end_session": "end_session",
        }[action]
        self._require(peer, permission)
        if action in ("admit", "deny"):
            waiter = runtime.waiters.get(message.participant_id or "")
            if waiter is None or waiter.decision.done():
                raise RealtimeError("no one with that id is waiting", code="not_waiting")
            waiter.decision.set_result(action == "admit")
            return {"type": "ok"}
        async with self.tx() as db:
            if action == "end_session":
                assert runtime.session_id is not None
                await self.sessions.end_session(db, peer.project_id, runtime.session_id, "ended_by_moderator")
            elif action in ("lock", "unlock"):
                await self.rooms.set_locked(db, peer.project_id, peer.room_id, action == "lock")
            elif not message.participant_id:
                raise ValidationFailed("participant_id is required", code="participant_required")
            elif action == "kick":
                await self.sessions.kick(
                    db, peer.project_id, peer.room_id, message.participant_id, ban_seconds=message.ban_seconds
                )
            else:
                await self.sessions.moderate_mute(
                    db, peer.project_id, peer.room_id, message.participant_id, message.audio, message.video
                )
        return {"type": "ok"}

    # -- leaving -----------------------------------------------------------------------------

    async def leave(self, peer: Peer) -> None:
        """An explicit leave: the participant is gone for good (the bus event closes the rest)."""
        async with self.tx() as db:
            await self.sessions.leave(db, peer.project_id, peer.participant_id, "left")

    async def dropped(self, peer: Peer) -> None:
        """The socket closed without ``leave``: keep the place for the grace period."""
        runtime = self.runtimes.get(peer.room_id)
        if runtime is None or runtime.peers.get(peer.participant_id) is not peer:
            return
        del runtime.peers[peer.participant_id]
        await self._release_media(runtime, peer)
        try:
            async with self.tx() as db:
                await self.sessions.disconnect(db, peer.project_id, peer.participant_id)
        except ConclaveError:
            return
        runtime.grace[peer.participant_id] = self._spawn(self._expire(runtime, peer))

    async def _expire(self, runtime: RoomRuntime, peer: Peer) -> None:
        await asyncio.sleep(self.grace_seconds)
        runtime.grace.pop(peer.participant_id, None)
        async with self.tx() as db:
            await self.sessions.expire_disconnected(db, peer.project_id, peer.participant_id)

    async def _release_media(self, runtime: RoomRuntime, peer: Peer) -> None:
        if peer.publisher is not None:
            await self._drop_publisher(runtime, peer, tear_down=True)
        peer.subscribed_feeds.clear()
        if peer.subscriber is not None:
            handle, peer.subscriber = peer.subscriber, None
            self.handles.pop(_key(handle), None)
            with contextlib.suppress(MediaError):
                await self._node(runtime).leave(handle)

    async def _drop_publisher(self, runtime: RoomRuntime, peer: Peer, *, tear_down: bool) -> None:
        handle, feed = peer.publisher, peer.feed_id
        peer.publisher, peer.feed_id = None, None
        if handle is not None:
            self.handles.pop(_key(handle), None)
            if tear_down:
                with contextlib.suppress(MediaError, RealtimeError):
                    await self._node(runtime).leave(handle)
        if feed is not None:
            announced = runtime.feeds.pop(feed, None) is not None
            for other in runtime.peers.values():
                other.subscribed_feeds.discard(feed)
            with contextlib.suppress(ConclaveError):
                async with self.tx() as db:
                    await self.sessions.set_feed(db, peer.project_id, peer.participant_id, None)
            if announced:
                await self._broadcast(
                    runtime,
                    {"type": "feed_unpublished", "feed_id": feed, "participant_id": peer.participant_id},
                )

    # -- timers ------------------------------------------------------------------------------

    def _schedule_length_timer(self, runtime: RoomRuntime, seconds: float) -> None:
        async def end_at_length() -> None:
            await asyncio.sleep(seconds)
            await self._end_if_live(runtime, "session_length", only_if_empty=False)

        runtime.length_timer = self._spawn(end_at_length())

    @staticmethod
    def _idle(runtime: RoomRuntime) -> bool:
        """A live session with nobody in it (nor expected back) and no empty-room timer yet."""
        return not (runtime.peers or runtime.grace or runtime.session_id is None or runtime.empty_timer)

    def _maybe_schedule_empty(self, runtime: RoomRuntime, timeout: float) -> None:
        if not self._idle(runtime):
            return

        async def end_when_empty() -> None:
            await asyncio.sleep(timeout)
            runtime.empty_timer = None
            await self._end_if_live(runtime, "empty_timeout", only_if_empty=True)

        runtime.empty_timer = self._spawn(end_when_empty())

    async def _end_if_live(self, runtime: RoomRuntime, reason: str, *, only_if_empty: bool) -> None:
        session_id = runtime.session_id
        if session_id is None:
            return
        async with runtime.lock:
            if only_if_empty and (runtime.peers or runtime.grace):
                return
            async with self.tx() as db:
                await self.sessions.end_if_live(
                    db, runtime.project_id, session_id, reason, only_if_empty=only_if_empty
                )

    # -- reactions to committed events -------------------------------------------------------

    async def _on_event(self, event: DomainEvent) -> None:
        runtime = self.runtimes.get(event.room_id or "")
        if runtime is None:
            return
        data = event.data
        if event.type == "participant.joined":
            view = {
                "id": data["participant_id"],
                "external_id": data.get("external_id"),
                "name": data.get("name"),
                "role": data.get("role"),
                "joined_at": isoformat(event.occurred_at),
                "publishing": False,
                "feed_id": None,
                "audio_muted": False,
                "video_muted": False,
                "hand_raised": False,
            }
            await self._broadcast(
                runtime, {"type": "participant_joined", "participant": view}, exclude=data["participant_id"]
            )
        elif event.type == "participant.left":
            await self._participant_left(runtime, data["participant_id"], data.get("reason", "left"), data)
        elif event.type == "chat.message":
            message = {k: v for k, v in data.items() if k != "room_id"}
            recipients = {data.get("participant_id"), data.get("to")} if data.get("private") else None
            await self._broadcast(
                runtime,
                {"type": "chat_message", "message": message},
                only=None if recipients is None else (lambda peer: peer.participant_id in recipients),
            )
        elif event.type == "participant.updated":
            await self._participant_updated(runtime, data)
        elif event.type == "session.ended" and data.get("session_id") == runtime.session_id:
            await self._shutdown(runtime, data.get("reason", "ended"))
        elif event.type in ("room.updated", "room.created") and "is_locked" in data:
            await self._broadcast(runtime, {"type": "room_updated", "is_locked": data["is_locked"]})
        elif event.type in ("room.ended", "room.deleted") and runtime.session_id:
            async with self.tx() as db:
                await self.sessions.end_if_live(
                    db, runtime.project_id, runtime.session_id, "room_ended", only_if_empty=False
                )

    async def _participant_left(
        self, runtime: RoomRuntime, participant_id: str, reason: str, data: dict[str, Any]
    ) -> None:
        if reason == "session_ended":
            return  # the session.ended event that follows closes everyone with the precise reason
        timer = runtime.grace.pop(participant_id, None)
        if timer:
            timer.cancel()
        peer = runtime.peers.pop(participant_id, None)
        if peer is not None:
            await self._release_media(runtime, peer)
            if reason == "kicked":
                await peer.send({"type": "kicked", "reason": "removed by a moderator"})
                await peer.close(p.CLOSE_KICKED, "kicked")
            else:
                await peer.close(1000, reason)
        await self._broadcast(
            runtime, {"type": "participant_left", "participant_id": participant_id, "reason": reason}
        )
        if self._idle(runtime):  # the room's timeout is read only when it may be needed
            self._maybe_schedule_empty(runtime, await self._empty_timeout(runtime))

    async def _empty_timeout(self, runtime: RoomRuntime) -> float:
        async with self.tx() as db:
            room = await self.rooms.find_for_join(db, room_id=runtime.room_id, ref=None)
            return float(room.empty_timeout) if room.empty_timeout is not None else self.default_empty_timeout

    async def _participant_updated(self, runtime: RoomRuntime, data: dict[str, Any]) -> None:
        participant_id = data["participant_id"]
        peer = runtime.peers.get(participant_id)
        if peer is not None and peer.feed_id is not None and runtime.room_key:
            await self._apply_block(runtime, peer, data)
        view = {
            "id": participant_id,
            "external_id": data.get("external_id"),
            "name": data.get("name"),
            "role": data.get("role"),
            "publishing": peer is not None and peer.feed_id is not None,
            "feed_id": peer.feed_id if peer else None,
            "audio_muted": data.get("audio_muted"),
            "video_muted": data.get("video_muted"),
            "hand_raised": data.get("hand_raised", False),
        }
        await self._broadcast(
            runtime,
            {"type": "participant_updated", "participant": view, "moderated": bool(data.get("moderated"))},
        )

    async def _apply_block(self, runtime: RoomRuntime, peer: Peer, data: dict[str, Any]) -> None:
        """A moderator's mute blocks the media in Janus; unmuting (by anyone) lifts the block.

        Self-muting adds no block: the client stops its own track, and may start it again.
        """
        audio, video = bool(data.get("audio_muted")), bool(data.get("video_muted"))
        if data.get("moderated"):
            wanted = (audio, video)
        else:
            wanted = (peer.blocked[0] and audio, peer.blocked[1] and video)
        if wanted == peer.blocked or peer.feed_id is None or runtime.room_key is None:
            return
        with contextlib.suppress(MediaError, RealtimeError):
            await self._node(runtime).moderate(
                runtime.room_key, peer.feed_id, mute_audio=wanted[0], mute_video=wanted[1]
            )
            peer.blocked = wanted

    async def _shutdown(self, runtime: RoomRuntime, reason: str) -> None:
        for timer in [runtime.empty_timer, runtime.length_timer, *runtime.grace.values()]:
            if timer is not None and timer is not asyncio.current_task():
                timer.cancel()
        runtime.grace.clear()
        for peer in list(runtime.peers.values()):
            await self._release_media(runtime, peer)
            await peer.send({"type": "session_ended", "reason": reason})
            await peer.close(p.CLOSE_SESSION_ENDED, "session ended")
        runtime.peers.clear()
        for waiter in runtime.waiters.values():
            if not waiter.decision.done():
                waiter.decision.set_result(False)
        if runtime.node_name and runtime.room_key:
            with contextlib.suppress(MediaError):
                await self.nodes.get(runtime.node_name).destroy_room(runtime.room_key)
        self.runtimes.pop(runtime.room_id, None)

    async def _broadcast(
        self,
        runtime: RoomRuntime,
        message: dict[str, Any],
        *,
        exclude: str | None = None,
        only: Callable[[Peer], bool] | None = None,
    ) -> None:
        for peer in list(runtime.peers.values()):
            if peer.participant_id != exclude and (only is None or only(peer)):
                await peer.send(message)

    # -- media events ------------------------------------------------------------------------

    def _on_media(self, node_name: str, event: MediaEvent) -> None:
        if event.kind == MediaEventKind.NODE_DOWN:
            self._spawn(self._media_lost(node_name))
            return
        if event.handle is None:
            return
        peer = self.handles.get(_key(event.handle))
        if peer is None:
            if event.kind == MediaEventKind.TRICKLE:
                # Janus may trickle before the request that created the handle has returned.
                early = self._early.setdefault(_key(event.handle), [])
                if len(early) < MAX_EARLY_EVENTS:
                    early.append(event)
            return
        runtime = self.runtimes.get(peer.room_id)
        if runtime is None:
            return
        if event.kind == MediaEventKind.TRICKLE:
            candidate = event.data.get("candidate")
            payload = (
                None
                if candidate is None
                else {
                    "candidate": candidate.candidate,
                    "sdpMid": candidate.sdp_mid,
                    "sdpMLineIndex": candidate.sdp_mline_index,
                }
            )
            self._spawn(peer.send({"type": "trickle", "target": event.handle.role, "candidate": payload}))
        elif event.kind == MediaEventKind.SUBSCRIBER_OFFER:
            self._spawn(peer.send(self._offer_message(runtime, event.data["offer"])))
        elif event.kind == MediaEventKind.WEBRTC_UP and event.handle.role == "publisher":
            self._spawn(self._announce_feed(runtime, peer))
        elif (
            event.kind == MediaEventKind.HANGUP
            and event.handle.role == "publisher"
            and peer.publisher == event.handle
        ):
            self._spawn(self._drop_publisher(runtime, peer, tear_down=False))

    async def _media_lost(self, node_name: str) -> None:
        """Tell every room on a dead node; clients rejoin and land on a healthy node."""
        for runtime in [r for r in self.runtimes.values() if r.node_name == node_name]:
            await self._broadcast(runtime, {"type": "room_media_lost"})
            if runtime.session_id:
                with contextlib.suppress(ConclaveError):
                    async with self.tx() as db:
                        await self.sessions.end_if_live(
                            db, runtime.project_id, runtime.session_id, "media_lost", only_if_empty=False
                        )

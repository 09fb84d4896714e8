"""Janus implementation of :class:`~conclave.media.port.MediaServer` (videoroom plugin).

Mapping decisions:

* Room ids: Conclave room keys are strings, Janus videoroom ids are numbers (string
  ids need a plugin-wide switch a remote node may not have). The id is derived from a
  hash of the key, kept below 2**53 so browsers' JSON numbers stay exact; any worker
  computes the same id without shared state.
* Room secrets: HMAC(room_secret_key, room key), so privileged requests work from any
  worker holding the key and nobody else can kick, moderate or forward.
* Every peer connection gets its own Janus session, so one participant's session
  timeout or teardown never affects another, and load (sessions) maps to peers.
* Publisher stream layout (which mid is audio/video) is asked from Janus when needed
  (moderate, rtp_forward) through a short-lived subscriber handle, instead of caching
  it here, because the publisher may have joined through another worker.
* Audio-only rooms: the videoroom plugin has no such switch, so any video a publisher
  sends into one is blocked right after joining with ``moderate`` (never relayed).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from conclave.media.janus.client import JanusAdminClient, JanusClient, JanusEvent, JanusHandle, JanusSession
from conclave.media.janus.config import JanusNodeSettings
from conclave.media.port import (
    ForwardedStream,
    IceCandidate,
    MediaError,
    MediaEvent,
    MediaEventKind,
    MediaEventListener,
    MediaHandle,
    MediaRequestFailed,
    NodeHealth,
    NodeLoad,
    Participant,
    PublishResult,
    RtpForward,
    SubscribedStream,
    SubscribeOffer,
)

__all__ = ["VIDEOROOM_PLUGIN", "JanusMediaServer", "room_id_for"]

logger = logging.getLogger(__name__)

VIDEOROOM_PLUGIN = "janus.plugin.videoroom"
_ROOM_DESCRIPTION_PREFIX = "conclave:"
# Janus videoroom error code for an unknown room, reused when our own lookup fails.
_ERR_NO_SUCH_ROOM = 426


def room_id_for(room_key: str) -> int:
    """Stable numeric videoroom id for a Conclave room key (1 .. 2**53-1)."""
    digest = hashlib.sha256(room_key.encode()).digest()
    return (int.from_bytes(digest[:8], "big") & ((1 << 53) - 1)) or 1


@dataclass(frozen=True)
class _PublishedStream:
    mid: str
    kind: str


@dataclass(frozen=True)
class _RoomProfile:
    audio_only: bool


@dataclass
class _Peer:
    """The live Janus objects behind a :class:`MediaHandle`."""

    handle: MediaHandle
    session: JanusSession
    janus_handle: JanusHandle


class JanusMediaServer:
    """Drives one Janus node. Create with :meth:`connect`, release with :meth:`aclose`."""

    def __init__(self, settings: JanusNodeSettings, client: JanusClient) -> None:
        self._settings = settings
        self._client = client
        self._admin = (
            JanusAdminClient(
                settings.admin_url,
                settings.admin_secret.get_secret_value(),
                connect_timeout=settings.connect_timeout,
                request_timeout=settings.request_timeout,
            )
            if settings.admin_url is not None and settings.admin_secret is not None
            else None
        )
        self._peers: dict[int, _Peer] = {}
        self._listeners: list[MediaEventListener] = []
        self._profiles: dict[str, _RoomProfile] = {}
        self._control: JanusHandle | None = None
        self._control_lock = asyncio.Lock()
        self._unsubscribe = [
            client.add_event_listener(self._on_janus_event),
            client.add_state_listener(self._on_node_state),
        ]

    @classmethod
    async def connect(cls, settings: JanusNodeSettings) -> JanusMediaServer:
        """Connect to the node described by ``settings`` (raises MediaNodeUnavailable)."""
        client = JanusClient(settings)
        await client.connect()
        return cls(settings, client)

    async def aclose(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._peers.clear()
        self._control = None
        await self._client.close()
        if self._admin is not None:
            await self._admin.close()

    def add_event_listener(self, listener: MediaEventListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # -- rooms -------------------------------------------------------------------------

    async def create_room(
        self, room_key: str, *, audio_only: bool, max_publishers: int, record_dir: str | None
    ) -> None:
        description = _ROOM_DESCRIPTION_PREFIX + json.dumps({"key": room_key, "audio_only": audio_only})
        body: dict[str, Any] = {
            "request": "create",
            "room": room_id_for(room_key),
            "description": description,
            "secret": self._room_secret(room_key),
            "permanent": False,
            "publishers": max_publishers,
            "audiocodec": "opus",
            "videocodec": "vp8",
            "notify_joining": True,
            "record": record_dir is not None,
        }
        if record_dir is not None:
            body["rec_dir"] = record_dir
        await self._control_request(body)
        self._profiles[room_key] = _RoomProfile(audio_only=audio_only)

    async def destroy_room(self, room_key: str) -> None:
        self._profiles.pop(room_key, None)
        await self._control_request(
            {"request": "destroy", "room": room_id_for(room_key), "secret": self._room_secret(room_key)}
        )

    async def list_participants(self, room_key: str) -> list[Participant]:
        data = await self._control_request({"request": "listparticipants", "room": room_id_for(room_key)})
        return [
            Participant(
                feed_id=int(p["id"]),
                display=p.get("display"),
                publisher=bool(p.get("publisher", False)),
                talking=p.get("talking"),
            )
            for p in data.get("participants", [])
        ]

    async def kick(self, room_key: str, feed_id: int) -> None:
        await self._control_request(
            {
                "request": "kick",
                "room": room_id_for(room_key),
                "secret": self._room_secret(room_key),
                "id": feed_id,
            }
        )

    async def moderate(
        self, room_key: str, feed_id: int, *, mute_audio: bool | None = None, mute_video: bool | None = None
    ) -> None:
        if mute_audio is None and mute_video is None:
            return
        streams = await self._publisher_streams(room_key, feed_id)
        await self._moderate_streams(room_key, feed_id, streams, {"audio": mute_audio, "video": mute_video})

    async def set_recording(self, room_key: str, enabled: bool, *, record_dir: str | None = None) -> None:
        room, secret = room_id_for(room_key), self._room_secret(room_key)
        if record_dir is not None:
            await self._control_request(
                {"request": "edit", "room": room, "secret": secret, "new_rec_dir": record_dir}
            )
        await self._control_request(
            {"request": "enable_recording", "room": room, "secret": secret, "record": enabled}
        )

    async def rtp_forward(
        self, room_key: str, feed_id: int, host: str, audio_port: int | None, video_port: int | None
    ) -> RtpForward:
        ports = {"audio": audio_port, "video": video_port}
        streams: list[dict[str, Any]] = []
        for stream in await self._publisher_streams(room_key, feed_id):
            port = ports.get(stream.kind)
            if port is not None:
                streams.append({"mid": stream.mid, "port": port})
                ports[stream.kind] = None  # one m-line per kind: the first one wins
        if not streams:
            raise MediaRequestFailed(0, f"feed {feed_id} publishes nothing matching the requested ports")
        data = await self._control_request(
            {
                "request": "rtp_forward",
                "room": room_id_for(room_key),
                "secret": self._room_secret(room_key),
                "publisher_id": feed_id,
                "host": host,
                "streams": streams,
            }
        )
        forwarders = tuple(
            ForwardedStream(
                stream_id=int(f["stream_id"]),
                kind=str(f.get("type", "")),
                host=str(f.get("host", host)),
                port=int(f["port"]),
            )
            for f in data.get("forwarders", [])
        )
        return RtpForward(room_key=room_key, feed_id=feed_id, streams=forwarders)

    async def stop_rtp_forward(self, forward: RtpForward) -> None:
        for stream in forward.streams:
            await self._control_request(
                {
                    "request": "stop_rtp_forward",
                    "room": room_id_for(forward.room_key),
                    "secret": self._room_secret(forward.room_key),
                    "publisher_id": forward.feed_id,
                    "stream_id": stream.stream_id,
                }
            )

    # -- peers -------------------------------------------------------------------------

    async def join_publisher(self, room_key: str, display: str, sdp_offer: str) -> PublishResult:
        profile = await self._room_profile(room_key)
        peer = await self._open_peer(room_key, "publisher")
        try:
            reply = await peer.janus_handle.message(
                {
                    "request": "joinandconfigure",
                    "ptype": "publisher",
                    "room": room_id_for(room_key),
                    "display": display,
                },
                {"type": "offer", "sdp": sdp_offer},
            )
            if reply.jsep is None:
                raise MediaRequestFailed(0, "Janus accepted the publisher but returned no SDP answer")
            feed_id = int(reply.data["id"])
            if profile.audio_only:
                # Not active yet, so no probe: the joined event lists our own streams.
                own = [
                    _PublishedStream(mid=str(s["mid"]), kind=str(s.get("type")))
                    for s in reply.data.get("streams", [])
                    if "mid" in s
                ]
                await self._moderate_streams(room_key, feed_id, own, {"video": True})
        except BaseException:
            await self._close_peer(peer)
            raise
        return PublishResult(feed_id=feed_id, sdp_answer=str(reply.jsep["sdp"]), handle=peer.handle)

    async def subscribe(self, room_key: str, feeds: Sequence[int]) -> SubscribeOffer:
        peer = await self._open_peer(room_key, "subscriber")
        try:
            reply = await peer.janus_handle.message(
                {
                    "request": "join",
                    "ptype": "subscriber",
                    "room": room_id_for(room_key),
                    "streams": [{"feed": feed} for feed in feeds],
                }
            )
            if reply.jsep is None:
                raise MediaRequestFailed(0, "Janus created the subscription but returned no SDP offer")
        except BaseException:
            await self._close_peer(peer)
            raise
        return SubscribeOffer(
            handle=peer.handle, sdp_offer=str(reply.jsep["sdp"]), streams=_streams(reply.data)
        )

    async def start_subscriber(self, handle: MediaHandle, sdp_answer: str) -> None:
        await self._peer(handle).janus_handle.message(
            {"request": "start"}, {"type": "answer", "sdp": sdp_answer}
        )

    async def update_subscription(
        self, handle: MediaHandle, *, add: Sequence[int] = (), remove: Sequence[int] = ()
    ) -> SubscribeOffer | None:
        if not add and not remove:
            return None
        body: dict[str, Any] = {"request": "update"}
        if add:
            body["subscribe"] = [{"feed": feed} for feed in add]
        if remove:
            body["unsubscribe"] = [{"feed": feed} for feed in remove]
        reply = await self._peer(handle).janus_handle.message(body)
        if reply.jsep is None:
            # "updating": Janus queued it behind a running renegotiation, the offer comes later
            # as an event; or nothing changed in the SDP. Either way there is nothing to answer now.
            return None
        return SubscribeOffer(handle=handle, sdp_offer=str(reply.jsep["sdp"]), streams=_streams(reply.data))

    async def trickle(self, handle: MediaHandle, candidate: IceCandidate | None) -> None:
        payload: dict[str, Any] | None = None
        if candidate is not None:
            payload = {"candidate": candidate.candidate}
            if candidate.sdp_mid is not None:
                payload["sdpMid"] = candidate.sdp_mid
            if candidate.sdp_mline_index is not None:
                payload["sdpMLineIndex"] = candidate.sdp_mline_index
        await self._peer(handle).janus_handle.trickle(payload)

    async def unpublish(self, handle: MediaHandle) -> None:
        await self._peer(handle).janus_handle.message({"request": "unpublish"})

    async def leave(self, handle: MediaHandle) -> None:
        peer = self._peers.get(handle.handle_id)
        if peer is None:
            return
        with contextlib.suppress(MediaRequestFailed):
            await peer.janus_handle.message({"request": "leave"})
        await self._close_peer(peer)

    # -- node --------------------------------------------------------------------------

    async def health(self) -> NodeHealth:
        rtt = await self._client.ping()
        info = await self._client.info()
        return NodeHealth(
            name=str(info.get("server-name", info.get("name", ""))),
            version=str(info.get("version_string", info.get("version", ""))),
            plugins=tuple(sorted((info.get("plugins") or {}).keys())),
            rtt_ms=rtt * 1000.0,
            accepting_sessions=bool(info.get("accepting-new-sessions", True)),
        )

    async def load(self) -> NodeLoad:
        if self._admin is None:
            raise MediaError("load needs the Janus admin API: set admin_url and admin_secret")
        sessions = await self._admin.list_sessions()
        handles = await asyncio.gather(*(self._handles_of(session) for session in sessions))
        return NodeLoad(sessions=len(sessions), handles=sum(handles))

    # -- internals ---------------------------------------------------------------------

    def _room_secret(self, room_key: str) -> str:
        key = self._settings.room_secret_key.get_secret_value().encode()
        return hmac.new(key, room_key.encode(), hashlib.sha256).hexdigest()[:32]

    async def _handles_of(self, session_id: int) -> int:
        assert self._admin is not None
        try:
            return len(await self._admin.list_handles(session_id))
        except MediaRequestFailed:
            return 0  # session ended between list_sessions and list_handles

    async def _control_handle(self) -> JanusHandle:
        """The shared handle for synchronous room management requests."""
        async with self._control_lock:
            if self._control is None:
                session = await self._client.create_session()
                self._control = await session.attach(VIDEOROOM_PLUGIN)
            return self._control

    async def _control_request(self, body: dict[str, Any]) -> dict[str, Any]:
        handle = await self._control_handle()
        try:
            return await handle.request(body)
        except MediaRequestFailed as exc:
            if exc.code in (458, 459):  # session/handle gone on the node: rebuild once
                self._control = None
                return await (await self._control_handle()).request(body)
            raise

    async def _room_profile(self, room_key: str) -> _RoomProfile:
        """Room settings Janus cannot express; read back from the room description if unknown."""
        profile = self._profiles.get(room_key)
        if profile is not None:
            return profile
        room = room_id_for(room_key)
        data = await self._control_request({"request": "list"})
        for entry in data.get("list", []):
            if int(entry.get("room", 0)) != room:
                continue
            description = str(entry.get("description", ""))
            audio_only = False
            if description.startswith(_ROOM_DESCRIPTION_PREFIX):
                meta = json.loads(description[len(_ROOM_DESCRIPTION_PREFIX) :])
                audio_only = bool(meta.get("audio_only", False))
            profile = _RoomProfile(audio_only=audio_only)
            self._profiles[room_key] = profile
            return profile
        raise MediaRequestFailed(_ERR_NO_SUCH_ROOM, f"no such room {room_key!r}")

    async def _moderate_streams(
        self,
        room_key: str,
        feed_id: int,
        streams: Sequence[_PublishedStream],
        wanted: dict[str, bool | None],
    ) -> None:
        for stream in streams:
            mute = wanted.get(stream.kind)
            if mute is None:
                continue
            await self._control_request(
                {
                    "request": "moderate",
                    "room": room_id_for(room_key),
                    "secret": self._room_secret(room_key),
                    "id": feed_id,
                    "mid": stream.mid,
                    "mute": mute,
                }
            )

    async def _publisher_streams(self, room_key: str, feed_id: int) -> tuple[_PublishedStream, ...]:
        """Ask Janus which mids a publisher has, via a throwaway subscription to it."""
        session = await self._client.create_session()
        try:
            handle = await session.attach(VIDEOROOM_PLUGIN)
            reply = await handle.message(
                {
                    "request": "join",
                    "ptype": "subscriber",
                    "room": room_id_for(room_key),
                    "streams": [{"feed": feed_id}],
                }
            )
            return tuple(
                _PublishedStream(mid=str(s.feed_mid), kind=s.kind)
                for s in _streams(reply.data)
                if s.feed_id == feed_id and s.feed_mid is not None
            )
        finally:
            with contextlib.suppress(MediaError):
                await session.destroy()

    async def _open_peer(self, room_key: str, role: str) -> _Peer:
        session = await self._client.create_session()
        try:
            janus_handle = await session.attach(VIDEOROOM_PLUGIN)
        except BaseException:
            with contextlib.suppress(MediaError):
                await session.destroy()
            raise
        handle = MediaHandle(
            room_key=room_key,
            role="publisher" if role == "publisher" else "subscriber",
            session_id=session.id,
            handle_id=janus_handle.id,
        )
        peer = _Peer(handle=handle, session=session, janus_handle=janus_handle)
        self._peers[janus_handle.id] = peer
        return peer

    async def _close_peer(self, peer: _Peer) -> None:
        self._peers.pop(peer.janus_handle.id, None)
        with contextlib.suppress(MediaError):
            await peer.session.destroy()

    def _peer(self, handle: MediaHandle) -> _Peer:
        peer = self._peers.get(handle.handle_id)
        if peer is None or peer.handle != handle:
            raise MediaRequestFailed(0, f"unknown or closed media handle {handle.handle_id}")
        return peer

    def _emit(self, event: MediaEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                logger.exception("media event listener failed for %s", event.kind)

    def _on_node_state(self, up: bool) -> None:
        if not up:
            # Janus drops every session of a closed socket: our handles are gone too.
            self._control = None
            lost = list(self._peers.values())
            self._peers.clear()
            for peer in lost:
                self._emit(
                    MediaEvent(
                        MediaEventKind.HANGUP, peer.handle.room_key, peer.handle, data={"reason": "node lost"}
                    )
                )
        self._emit(MediaEvent(MediaEventKind.NODE_UP if up else MediaEventKind.NODE_DOWN))

    def _on_janus_event(self, event: JanusEvent) -> None:
        peer = self._peers.get(event.handle_id) if event.handle_id is not None else None
        if peer is None:
            return  # control/probe handles, or peers of another adapter on this client
        handle = peer.handle
        core_kinds = {
            "webrtcup": MediaEventKind.WEBRTC_UP,
            "hangup": MediaEventKind.HANGUP,
            "media": MediaEventKind.MEDIA,
            "slowlink": MediaEventKind.SLOWLINK,
            "detached": MediaEventKind.DETACHED,
        }
        if event.janus in core_kinds:
            if event.janus == "detached":
                self._peers.pop(handle.handle_id, None)
            data = {
                k: v
                for k, v in event.raw.items()
                if k not in ("janus", "session_id", "sender", "transaction")
            }
            self._emit(MediaEvent(core_kinds[event.janus], handle.room_key, handle, data=data))
            return
        if event.janus == "trickle":
            self._emit(
                MediaEvent(MediaEventKind.TRICKLE, handle.room_key, handle, data=_remote_candidate(event.raw))
            )
            return
        if event.janus == "event":
            if handle.role == "subscriber" and event.jsep is not None and event.jsep.get("type") == "offer":
                offer = SubscribeOffer(
                    handle=handle, sdp_offer=str(event.jsep["sdp"]), streams=_streams(event.data)
                )
                self._emit(
                    MediaEvent(
                        MediaEventKind.SUBSCRIBER_OFFER, handle.room_key, handle, data={"offer": offer}
                    )
                )
            for media_event in _videoroom_events(handle, event.data):
                self._emit(media_event)


def _streams(data: dict[str, Any]) -> tuple[SubscribedStream, ...]:
    return tuple(
        SubscribedStream(
            mid=str(s.get("mid")),
            kind=str(s.get("type")),
            feed_id=int(s["feed_id"]),
            feed_mid=None if s.get("feed_mid") is None else str(s["feed_mid"]),
        )
        for s in data.get("streams", [])
        if "feed_id" in s
    )


def _remote_candidate(raw: dict[str, Any]) -> dict[str, Any]:
    """Janus' ``trickle`` event payload as an :class:`IceCandidate` (None = completed)."""
    candidate = raw.get("candidate") or {}
    if candidate.get("completed") or "candidate" not in candidate:
        return {"candidate": None}
    index = candidate.get("sdpMLineIndex")
    return {
        "candidate": IceCandidate(
            candidate=str(candidate["candidate"]),
            sdp_mid=None if candidate.get("sdpMid") is None else str(candidate["sdpMid"]),
            sdp_mline_index=None if index is None else int(index),
        )
    }


def _videoroom_events(handle: MediaHandle, data: dict[str, Any]) -> list[MediaEvent]:
    """Translate one videoroom ``event`` payload into zero or more domain events."""
    room = handle.room_key
    events: list[MediaEvent] = []
    if data.get("videoroom") == "destroyed":
        return [MediaEvent(MediaEventKind.ROOM_DESTROYED, room, handle, data=data)]
    for publisher in data.get("publishers", []) or []:
        events.append(MediaEvent(MediaEventKind.PUBLISHED, room, handle, int(publisher["id"]), publisher))
    joining = data.get("joining")
    if isinstance(joining, dict):
        events.append(MediaEvent(MediaEventKind.JOINING, room, handle, int(joining["id"]), joining))
    for key, kind in (
        ("unpublished", MediaEventKind.UNPUBLISHED),
        ("leaving", MediaEventKind.LEAVING),
        ("kicked", MediaEventKind.KICKED),
    ):
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            events.append(MediaEvent(kind, room, handle, value, data))
        elif value == "ok" and key != "unpublished":
            # About this handle itself: "leaving": "ok" (reason "kicked" when kicked).
            self_kind = MediaEventKind.KICKED if data.get("reason") == "kicked" else kind
            events.append(MediaEvent(self_kind, room, handle, None, data))
    return events

"""``Participant``: a real WebRTC participant (aiortc) speaking the realtime protocol v1.

The contract is ``docs/realtime-protocol.md``: one WebSocket to ``/rtc``, a ``join``, then at
most two peer connections — a *publisher* (our tracks) and one multistream *subscriber*
(everyone else's feeds) that the server renegotiates as feeds come and go.

Design choices, and why:

- **One reader task per socket** routes every frame: replies go to the request waiting for
  its ``reply_to``; events update the roster and feeds; ``subscriber_offer`` frames go to a
  single worker so renegotiations are answered in order; ``trickle`` candidates go to the
  right peer connection. A resumed participant gets a new socket and the old one's frames are
  ignored, so a late close of the old socket cannot tear down the new session.
- **Server candidates are buffered** per peer connection until its remote description is
  set: aiortc silently drops candidates for transceivers it does not know yet, and Janus
  (``full_trickle``) may trickle before our answer is applied.
- **Our own candidates travel in the SDP** (aiortc gathers them all during
  ``setLocalDescription``), followed by an end-of-candidates ``trickle``.
- **ICE can be confined** to given local addresses (``ice_addresses``) with
  :func:`conclave.media.ice.restrict_host_addresses`; on hosts where only loopback and a
  namespace's veth may carry traffic this is what keeps media off real interfaces. No STUN
  or TURN is used unless ``ice_servers`` says so (aiortc would otherwise ask Google's STUN).
- **Every wait is bounded** (``timeout``; ``admission_timeout`` while a locked room keeps us
  waiting) and failures are typed (:mod:`conclave.sdk.errors`), carrying the server's
  ``code``/``message`` and the socket's close code.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections import deque
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

import av
import httpx
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from conclave.media.ice import restrict_host_addresses
from conclave.sdk.errors import (
    AdmissionRefused,
    ConclaveConnectionError,
    ConnectionLost,
    IceConfigurationError,
    Kicked,
    MediaConnectionFailed,
    PublishRefused,
    RealtimeError,
    RealtimeTimeout,
    Replaced,
    RequestRefused,
    SessionEnded,
)
from conclave.sdk.rest import DEFAULT_SERVER
from conclave.sdk.tracks import MediaSource, SyntheticSource

__all__ = [
    "FeedStats",
    "FrameCounts",
    "Participant",
    "candidate_addresses",
    "fetch_ice_addresses",
    "http_base",
    "rtc_url",
]

logger = logging.getLogger("conclave.sdk")

Message = dict[str, Any]
Listener = Callable[[Message], None]

_ADMISSION_TYPES = frozenset({"joined", "waiting", "admitted", "denied", "error"})
_CLOSE_ERRORS: dict[int, type[ConnectionLost]] = {4410: Kicked, 4411: SessionEnded, 4412: Replaced}
_CLOSED = "__closed__"  # internal marker put on the admission queue when the socket closes


def rtc_url(server: str, *, token: str | None = None, room: str | None = None) -> str:
    """The ``/rtc`` WebSocket URL for a server base URL (``http(s)``/``ws(s)``, with or without ``/rtc``)."""
    if (token is None) == (room is None):
        raise ValueError("give exactly one of token (any room) or room (public rooms)")
    parts = urlsplit(server if "://" in server else f"http://{server}")
    schemes = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
    if parts.scheme not in schemes:
        raise ValueError(f"unsupported server URL scheme {parts.scheme!r} (use http, https, ws or wss)")
    path = parts.path.rstrip("/")
    if not path.endswith("/rtc"):
        path += "/rtc"
    query = urlencode({"token": token} if token is not None else {"room": room})
    return urlunsplit((schemes[parts.scheme], parts.netloc, path, query, ""))


def http_base(server: str) -> str:
    """The server's HTTP base URL from any accepted form (``ws://…/rtc`` included)."""
    parts = urlsplit(server if "://" in server else f"http://{server}")
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/").removesuffix("/rtc")
    return urlunsplit((scheme, parts.netloc, path, "", ""))


async def fetch_ice_addresses(server: str, *, request_timeout: float = 10.0) -> list[str]:
    """The local addresses the server tells same-host clients to use for ICE (``GET /rtc/config``).

    A server whose media runs in a network namespace reports the host end of its veth; an
    empty list means "no restriction".
    """
    async with httpx.AsyncClient(timeout=request_timeout) as http:
        try:
            response = await http.get(f"{http_base(server)}/rtc/config")
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise ConclaveConnectionError(f"cannot read the server's realtime config: {exc}") from exc
    addresses = response.json().get("ice_addresses") or []
    return [str(address) for address in addresses]


def candidate_addresses(sdp: str) -> set[str]:
    """The connection addresses of an SDP's ``a=candidate`` lines."""
    return {line.split()[4] for line in sdp.splitlines() if line.startswith("a=candidate:")}


@dataclass
class FeedStats:
    """Frames decoded from one remote feed (a participant's published audio and video)."""

    feed_id: Any
    participant_id: str | None
    video_frames: int = 0
    audio_frames: int = 0
    video_sizes: set[tuple[int, int]] = field(default_factory=set)
    last_frame_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "feed_id": self.feed_id,
            "participant_id": self.participant_id,
            "video_frames": self.video_frames,
            "audio_frames": self.audio_frames,
            "video_sizes": sorted([list(size) for size in self.video_sizes]),
        }


@dataclass(frozen=True)
class FrameCounts:
    """Decoded frames over all received feeds."""

    video: int
    audio: int


class _Link:
    """One WebSocket and its reader; replaced as a whole when the participant resumes."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.reader: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""


class _RemoteCandidates:
    """Candidates the server trickled for one peer connection, held until it can take them.

    An end-of-candidates that follows *no* candidate is not passed on: aioice would then
    fail ICE at once, whereas the node's connectivity checks still reach us (its address is
    learnt as a peer-reflexive candidate), which is how browsers cope with a lost trickle.
    """

    def __init__(self) -> None:
        self.pc: RTCPeerConnection | None = None
        self._pending: list[Message | None] = []
        self._received = 0
        self._lock = asyncio.Lock()

    async def add(self, candidate: Message | None) -> None:
        async with self._lock:
            if self.pc is None:
                self._pending.append(candidate)
            else:
                await self._apply(self.pc, candidate)

    async def attach(self, pc: RTCPeerConnection) -> None:
        """Call once the remote description is set: flushes what arrived earlier."""
        async with self._lock:
            if self.pc is pc:
                return
            self.pc = pc
            pending, self._pending = self._pending, []
            for candidate in pending:
                await self._apply(pc, candidate)

    async def _apply(self, pc: RTCPeerConnection, candidate: Message | None) -> None:
        if _is_end_of_candidates(candidate):
            if self._received == 0:
                logger.debug("end-of-candidates without any candidate: relying on peer-reflexive discovery")
                return
        else:
            self._received += 1
        await _add_candidate(pc, candidate)

    def reset(self) -> None:
        self.pc = None
        self._pending = []
        self._received = 0


def _is_end_of_candidates(candidate: Message | None) -> bool:
    return candidate is None or not str(candidate.get("candidate") or "").strip()


async def _add_candidate(pc: RTCPeerConnection, candidate: Message | None) -> None:
    """Hand one protocol candidate (``{"candidate","sdpMid","sdpMLineIndex"}`` or null) to aiortc."""
    if pc.connectionState == "closed":
        return
    line = "" if candidate is None else str(candidate.get("candidate") or "")
    line = line.removeprefix("a=").removeprefix("candidate:").strip()
    if not line:  # null or "" both mean end-of-candidates
        await pc.addIceCandidate(None)
        return
    try:
        parsed = candidate_from_sdp(line)
    except (ValueError, IndexError):
        logger.warning("ignoring an unparsable ICE candidate from the server: %r", line)
        return
    assert candidate is not None
    parsed.sdpMid = candidate.get("sdpMid")
    index = candidate.get("sdpMLineIndex")
    parsed.sdpMLineIndex = int(index) if index is not None else None
    if parsed.sdpMid is None and parsed.sdpMLineIndex is None:
        parsed.sdpMLineIndex = 0  # bundled: everything rides the first m-line's transport
    await pc.addIceCandidate(parsed)


class Participant:
    """A participant of one room: join, publish, subscribe, moderate, resume, leave.

    ``server`` is the Conclave base URL (``http://127.0.0.1:8000``). Give ``token`` (an
    access token from ``POST /rooms/{room}/token``) or, for public rooms, ``room`` plus
    ``display_name``. ``ice_addresses`` confines local ICE candidates to those addresses.

    Use ``async with Participant(...) as p:`` (joins, and leaves on exit) or call
    :meth:`join` and :meth:`leave`. With ``auto_resume`` a socket that drops while in the
    room is reopened and the participant resumed (same id) within ``resume_window`` seconds,
    publishing and subscribing again as before.
    """

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        *,
        token: str | None = None,
        room: str | None = None,
        display_name: str | None = None,
        ice_addresses: Collection[str] | Literal["auto"] | None = None,
        ice_servers: Sequence[RTCIceServer] = (),
        timeout: float = 15.0,
        admission_timeout: float = 120.0,
        auto_resume: bool = True,
        resume_window: float = 15.0,
        max_events: int = 2000,
    ) -> None:
        self.url = rtc_url(server, token=token, room=room)
        self.server = http_base(server)
        self.display_name = display_name
        self._auto_ice = ice_addresses == "auto"
        self.ice_addresses: frozenset[str] | None = (
            frozenset(ice_addresses) if ice_addresses and ice_addresses != "auto" else None
        )
        self.ice_servers = list(ice_servers)
        self.timeout = timeout
        self.admission_timeout = admission_timeout
        self.auto_resume = auto_resume
        self.resume_window = resume_window

        # what the server told us
        self.participant: Message | None = None
        self.session_id: str | None = None
        self.room: Message = {}
        self.permissions: dict[str, bool] = {}
        self.participants: dict[str, Message] = {}
        self.room_feeds: dict[Any, str] = {}
        self.waiting_participants: dict[str, Message] = {}
        self.resume_token: str | None = None
        self.resumed = False
        self.waiting = False
        self.feed_id: Any = None
        self.events: deque[Message] = deque(maxlen=max_events)
        self.errors: list[Message] = []
        self.end_reason: str | None = None
        self.subscriber_negotiations = 0
        self.resume_count = 0

        self._ids = itertools.count(1)
        self._link: _Link | None = None
        self._pending: dict[int, asyncio.Future[Message]] = {}
        self._pending_by_type: dict[str, asyncio.Future[Message]] = {}
        self._admission: asyncio.Queue[Message] | None = None
        self._join_id: int | None = None
        self._joined = False
        self._leaving = False
        self._closed = asyncio.Event()
        self._close_error: RealtimeError | None = None
        self._listeners: list[tuple[str, Listener]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._resume_lock = asyncio.Lock()
        self._resume_task: asyncio.Task[None] | None = None

        # media
        self._source: MediaSource | None = None
        self._publish_options: tuple[bool, bool] | None = None
        self._publisher: RTCPeerConnection | None = None
        self._senders: dict[str, RTCRtpSender] = {}
        self._tracks: dict[str, MediaStreamTrack] = {}
        self._muted: dict[str, bool] = {"audio": False, "video": False}
        self._subscribed = False
        self._subscriber: RTCPeerConnection | None = None
        self._subscriber_trickle_done = False
        self._sub_lock = asyncio.Lock()
        self._offers: asyncio.Queue[Message] = asyncio.Queue()
        self._offer_worker: asyncio.Task[None] | None = None
        self._consumers: set[asyncio.Task[None]] = set()
        self._candidates = {"publisher": _RemoteCandidates(), "subscriber": _RemoteCandidates()}
        self._mid_streams: dict[str, Message] = {}
        self._feed_stats: dict[Any, FeedStats] = {}
        self.media_errors: list[str] = []

    # --- properties ----------------------------------------------------------------------

    @property
    def participant_id(self) -> str | None:
        return None if self.participant is None else str(self.participant["id"])

    @property
    def joined(self) -> bool:
        return self._joined and not self._closed.is_set()

    @property
    def published(self) -> bool:
        return self._publisher is not None and self.feed_id is not None

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def close_error(self) -> RealtimeError | None:
        """Why the participant is out of the room, when it was not its own ``leave``."""
        return self._close_error

    @property
    def feeds(self) -> dict[Any, FeedStats]:
        """Decoded frames per remote feed id (cumulative over resumes)."""
        return dict(self._feed_stats)

    @property
    def frames_received(self) -> FrameCounts:
        stats = self._feed_stats.values()
        return FrameCounts(video=sum(s.video_frames for s in stats), audio=sum(s.audio_frames for s in stats))

    @property
    def video_frames_received(self) -> int:
        return self.frames_received.video

    @property
    def audio_frames_received(self) -> int:
        return self.frames_received.audio

    # --- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> Participant:
        await self.join()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.leave()

    async def join(self, *, subscribe: bool = False) -> Message:
        """Connect and get admitted; returns the ``joined`` frame.

        With ``subscribe`` the participant also receives every other feed from the start, as
        :meth:`subscribe` would, without the extra round trip: the server prepares the subscriber
        while it admits us and sends its offer right after ``joined``.

        Raises :class:`AdmissionRefused` with the server's code/message and close code when
        refused (also when a moderator denies us in a locked room), :class:`RealtimeTimeout`
        when no answer comes, :class:`ConclaveConnectionError` when the server is unreachable.
        """
        if self._closed.is_set():
            raise RealtimeError("this participant has left; create a new one to join again")
        if self._joined:
            raise RealtimeError("already joined")
        if self._auto_ice:
            found = await fetch_ice_addresses(self.server, request_timeout=self.timeout)
            self.ice_addresses = frozenset(found) or None
            self._auto_ice = False
        link = await self._connect(url_join=True, subscribe=subscribe)
        self._link = link
        try:
            joined = await self._admit(link, resume=None, in_url=True)
        except BaseException:
            self._link = None
            await self._close_link(link)
            raise
        self._subscribed = subscribe
        self._offer_worker = asyncio.get_running_loop().create_task(self._answer_offers())
        return joined

    async def leave(self) -> None:
        """Leave for good (no resume), close the peer connections and the socket. Idempotent."""
        if self._closed.is_set():
            await self._shutdown()
            return
        self._leaving = True
        if self._resume_task is not None and not self._resume_task.done():
            self._resume_task.cancel()
            await asyncio.gather(self._resume_task, return_exceptions=True)
        link = self._link
        if link is not None and self._joined and not link.closed.is_set():
            with contextlib.suppress(ConnectionClosed):
                await link.ws.send(json.dumps({"type": "leave"}))
            with contextlib.suppress(TimeoutError):  # the server closes the socket after `leave`
                await asyncio.wait_for(link.closed.wait(), self.timeout)
        await self._shutdown()

    async def wait_closed(self, within: float | None = None) -> RealtimeError | None:
        """Wait (``within`` seconds; ``None``: unbounded) until we are out of the room; returns why."""
        try:
            await asyncio.wait_for(self._closed.wait(), within)
        except TimeoutError:
            raise RealtimeTimeout(f"still in the room after {within}s") from None
        return self._close_error

    async def resume(self) -> bool:
        """Reconnect on a new socket with the ``resume_token`` and publish/subscribe again.

        Returns ``resumed`` from the server: ``True`` when it is the same participant (within
        the server's grace period), ``False`` when the server admitted us as a new one.
        """
        if self.resume_token is None or self._closed.is_set():
            raise RealtimeError("nothing to resume: join first")
        await self._resume()
        return self.resumed

    # --- media ---------------------------------------------------------------------------

    async def publish(
        self,
        *,
        audio: bool = True,
        video: bool = True,
        source: MediaSource | None = None,
        wait_connected: bool = True,
    ) -> Any:
        """Publish ``source``'s tracks (default: synthetic tone + test pattern); returns the feed id.

        Raises :class:`PublishRefused` when the role may not broadcast, and
        :class:`MediaConnectionFailed` when ``wait_connected`` and ICE/DTLS do not complete.
        """
        self._require_joined()
        if self._publisher is not None:
            raise RealtimeError("already publishing; unpublish first")
        if not (audio or video):
            raise ValueError("publish at least one of audio and video")
        if source is not None and source is not self._source:
            if self._source is not None:
                self._source.close()
            self._source = source
        if self._source is None:
            self._source = SyntheticSource()
        audio_track, video_track = self._source.create_tracks(audio=audio, video=video)
        if audio_track is None and video_track is None:
            raise ValueError("the media source has none of the requested kinds")
        pc = self._new_pc()
        self._publisher = pc
        try:
            for track in (audio_track, video_track):
                if track is not None:
                    self._senders[track.kind] = pc.addTransceiver(track, direction="sendonly").sender
                    self._tracks[track.kind] = track
            with self._ice_scope():
                await pc.setLocalDescription(await pc.createOffer())
            self._check_candidates(pc.localDescription.sdp)
            reply = await self._request(
                {
                    "type": "publish",
                    "sdp": pc.localDescription.sdp,
                    "audio": audio_track is not None,
                    "video": video_track is not None,
                },
                refused=PublishRefused,
            )
            if reply.get("type") != "published" or "sdp" not in reply:
                raise RealtimeError(f"unexpected reply to publish: {reply.get('type')!r}")
            with self._ice_scope():
                await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))
            await self._candidates["publisher"].attach(pc)
            await self._send({"type": "trickle", "target": "publisher", "candidate": None})
            self.feed_id = reply.get("feed_id")
            self._publish_options = (audio_track is not None, video_track is not None)
            for kind, muted in self._muted.items():
                if muted and kind in self._senders:
                    self._senders[kind].replaceTrack(None)
            if wait_connected:
                await self._wait_connected(pc, "publisher")
        except BaseException:
            await self._close_publisher()
            raise
        return self.feed_id

    async def unpublish(self) -> None:
        """Stop publishing (the server answers ``unpublished``) and close the publisher connection."""
        self._require_joined()
        if self._publisher is None:
            return
        await self._request({"type": "unpublish"})
        self._publish_options = None
        await self._close_publisher()

    async def subscribe(self) -> None:
        """Receive every other feed from now on; offers are answered in the background."""
        self._require_joined()
        self._subscribed = True
        # The server answers `ok`, or — when there are feeds to receive — directly with the
        # first `subscriber_offer`; a failure to set that up comes as an `error` without
        # reply_to. Both count as the answer.
        await self._request({"type": "subscribe"}, also_answered_by=("subscriber_offer", "error"))

    async def mute(self, *, audio: bool | None = None, video: bool | None = None) -> None:
        """Mute (``True``) or unmute (``False``) our audio/video; with neither given, mute both.

        The server tells everyone (``participant_updated``); locally the sender stops
        encoding the muted track, so no media leaves this peer while muted.
        """
        if audio is None and video is None:
            audio = video = True
        self._require_joined()
        changes = {kind: value for kind, value in (("audio", audio), ("video", video)) if value is not None}
        await self._request({"type": "mute", **changes})
        for kind, muted in changes.items():
            self._muted[kind] = muted
            sender = self._senders.get(kind)
            if sender is not None:
                sender.replaceTrack(None if muted else self._tracks.get(kind))

    async def unmute(self, *, audio: bool = True, video: bool = True) -> None:
        """Unmute the given kinds (both by default)."""
        await self.mute(audio=False if audio else None, video=False if video else None)

    # --- moderation ----------------------------------------------------------------------

    async def moderate(
        self,
        action: str,
        participant_id: str | None = None,
        *,
        audio: bool | None = None,
        video: bool | None = None,
    ) -> Message:
        """Send a ``moderate`` request; raises :class:`RequestRefused` without the permission."""
        self._require_joined()
        message: Message = {"type": "moderate", "action": action}
        for key, value in (("participant_id", participant_id), ("audio", audio), ("video", video)):
            if value is not None:
                message[key] = value
        return await self._request(message)

    async def kick(self, participant_id: str) -> Message:
        return await self.moderate("kick", participant_id)

    async def mute_participant(
        self, participant_id: str, *, audio: bool | None = None, video: bool | None = None
    ) -> Message:
        """Mute another participant's audio and/or video (both when neither is given)."""
        if audio is None and video is None:
            audio = video = True
        return await self.moderate("mute", participant_id, audio=audio, video=video)

    async def admit(self, participant_id: str) -> Message:
        self.waiting_participants.pop(participant_id, None)
        return await self.moderate("admit", participant_id)

    async def deny(self, participant_id: str) -> Message:
        self.waiting_participants.pop(participant_id, None)
        return await self.moderate("deny", participant_id)

    async def lock(self) -> Message:
        return await self.moderate("lock")

    async def unlock(self) -> Message:
        return await self.moderate("unlock")

    async def end_session(self) -> Message:
        """End the session for everyone, us included.

        The server may close our socket (4411) before its ``ok`` reaches us; that close is
        the success, so it is returned as ``{"type": "session_ended", "reason": …}``.
        """
        try:
            return await self.moderate("end_session")
        except SessionEnded as ended:
            return {"type": "session_ended", "reason": ended.code}

    async def ping(self) -> float:
        """Round trip of a ``ping``/``pong`` in seconds."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        await self._request({"type": "ping"})
        return loop.time() - started

    # --- observation ---------------------------------------------------------------------

    def on(self, message_type: str, listener: Listener) -> Callable[[], None]:
        """Call ``listener(frame)`` for every server frame of that type (``"*"``: all); returns a remover."""
        entry = (message_type, listener)
        self._listeners.append(entry)
        return lambda: self._listeners.remove(entry) if entry in self._listeners else None

    async def wait_for_event(
        self,
        message_type: str,
        predicate: Callable[[Message], bool] | None = None,
        *,
        within: float | None = None,
        past: bool = True,
    ) -> Message:
        """The first server frame of that type (already received when ``past``) matching ``predicate``."""
        limit = self.timeout if within is None else within

        def matches(message: Message) -> bool:
            return message.get("type") == message_type and (predicate is None or predicate(message))

        if past:
            for message in self.events:
                if matches(message):
                    return message
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

        def listener(message: Message) -> None:
            if not future.done() and matches(message):
                future.set_result(message)

        remove = self.on(message_type, listener)
        try:
            return await asyncio.wait_for(future, limit)
        except TimeoutError:
            raise RealtimeTimeout(f"no {message_type!r} event within {limit}s") from None
        finally:
            remove()

    def frames_from(self, *, feed_id: Any = None, participant_id: str | None = None) -> FrameCounts:
        """Decoded frames from one feed or one participant's feeds."""
        stats = [
            s
            for s in self._feed_stats.values()
            if (feed_id is None or s.feed_id == feed_id)
            and (participant_id is None or s.participant_id == participant_id)
        ]
        return FrameCounts(sum(s.video_frames for s in stats), sum(s.audio_frames for s in stats))

    async def wait_for_frames(
        self,
        *,
        video: int = 1,
        audio: int = 0,
        feed_id: Any = None,
        participant_id: str | None = None,
        within: float | None = None,
    ) -> FrameCounts:
        """Wait until at least ``video``/``audio`` frames were decoded (from that feed/participant)."""
        limit = self.timeout if within is None else within
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            counts = self.frames_from(feed_id=feed_id, participant_id=participant_id)
            if counts.video >= video and counts.audio >= audio:
                return counts
            if self._closed.is_set():
                raise self._close_error or RealtimeError("left the room while waiting for frames")
            if loop.time() > deadline:
                raise RealtimeTimeout(
                    f"received {counts.video} video / {counts.audio} audio frames within {limit}s, "
                    f"expected {video} / {audio}"
                )
            await asyncio.sleep(0.05)

    async def get_stats(self) -> dict[str, Any]:
        """A JSON-able summary: identity, frame counts per feed and aiortc's RTP statistics."""
        summary: dict[str, Any] = {
            "participant_id": self.participant_id,
            "session_id": self.session_id,
            "room": self.room.get("friendly_url") or self.room.get("id"),
            "published": self.published,
            "feed_id": self.feed_id,
            "resumed": self.resumed,
            "video_frames_received": self.video_frames_received,
            "audio_frames_received": self.audio_frames_received,
            "feeds": [s.as_dict() for s in self._feed_stats.values()],
            "publisher": await self._rtp_summary(self._publisher),
            "subscriber": await self._rtp_summary(self._subscriber),
        }
        return summary

    @staticmethod
    async def _rtp_summary(pc: RTCPeerConnection | None) -> dict[str, Any] | None:
        if pc is None:
            return None
        summary: dict[str, Any] = {
            "connection_state": pc.connectionState,
            "bytes_sent": 0,
            "bytes_received": 0,
        }
        for stat in (await pc.getStats()).values():
            kind = getattr(stat, "kind", None)
            if stat.type == "outbound-rtp" and kind:
                entry = summary.setdefault(f"{kind}_sent", {"packets": 0, "bytes": 0})
                entry["packets"] += stat.packetsSent
                entry["bytes"] += stat.bytesSent
            elif stat.type == "inbound-rtp" and kind:
                entry = summary.setdefault(f"{kind}_received", {"packets": 0, "lost": 0})
                entry["packets"] += stat.packetsReceived
                entry["lost"] += stat.packetsLost
            elif stat.type == "transport":
                summary["bytes_sent"] += stat.bytesSent
                summary["bytes_received"] += stat.bytesReceived
        for key in [k for k, v in summary.items() if k.endswith("_sent") and isinstance(v, dict)]:
            if summary[key]["packets"] == 0:  # receive-only transceivers report empty senders
                del summary[key]
        return summary

    # --- socket --------------------------------------------------------------------------

    async def _connect(self, *, url_join: bool = False, subscribe: bool = False) -> _Link:
        """Open the socket. With ``url_join`` the URL is the join itself (``join=1``), so the server
        admits us as the socket opens, and with ``subscribe`` it also prepares our subscriber
        meanwhile; without, a ``join`` message follows (a resume)."""
        url = self.url
        if url_join:
            params: dict[str, str] = {"join": "1"}
            if subscribe:
                params["subscribe"] = "1"
            if self.display_name is not None:
                params["display_name"] = self.display_name
            url = f"{url}&{urlencode(params)}"
        try:
            ws = await connect(url, open_timeout=self.timeout, max_size=2**22, ping_interval=20)
        except InvalidStatus as exc:
            status = exc.response.status_code
            raise AdmissionRefused(
                f"the server refused the WebSocket upgrade with HTTP {status}", code=f"http_{status}"
            ) from exc
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise ConclaveConnectionError(f"cannot open {self._safe_url}: {exc}") from exc
        link = _Link(ws)
        link.reader = asyncio.get_running_loop().create_task(self._read(link))
        return link

    @property
    def _safe_url(self) -> str:
        """The socket URL without the token (it is a credential)."""
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))

    async def _close_link(self, link: _Link) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(link.ws.close(), 2.0)
        if link.reader is not None and not link.reader.done():
            link.reader.cancel()
            await asyncio.gather(link.reader, return_exceptions=True)

    async def _read(self, link: _Link) -> None:
        try:
            async for raw in link.ws:
                if isinstance(raw, bytes):
                    continue
                try:
                    message = json.loads(raw)
                except ValueError:
                    logger.warning("ignoring a non-JSON frame from the server")
                    continue
                if isinstance(message, dict) and link is self._link:
                    self._dispatch(message)
        except ConnectionClosed:
            pass
        except Exception:
            logger.exception("realtime reader failed")
        finally:
            link.close_code = link.ws.close_code
            link.close_reason = link.ws.close_reason or ""
            link.closed.set()
            if link is self._link:
                self._on_link_closed(link)

    async def _send(self, message: Message) -> None:
        link = self._link
        if link is None or link.closed.is_set():
            raise self._close_error or ConnectionLost("not connected")
        try:
            await link.ws.send(json.dumps(message))
        except ConnectionClosed as exc:
            raise ConnectionLost(f"the socket closed while sending {message.get('type')!r}") from exc

    async def _request(
        self,
        message: Message,
        *,
        refused: type[RequestRefused] = RequestRefused,
        reply_timeout: float | None = None,
        also_answered_by: tuple[str, ...] = (),
    ) -> Message:
        """Send with an ``id`` and wait for the frame whose ``reply_to`` matches; ``error`` raises.

        ``also_answered_by`` names frame types that count as the answer too (for requests the
        server may answer with an event instead of a direct reply).
        """
        request_id = next(self._ids)
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        for kind in also_answered_by:
            self._pending_by_type[kind] = future
        limit = self.timeout if reply_timeout is None else reply_timeout
        try:
            await self._send({**message, "id": request_id})
            try:
                reply = await asyncio.wait_for(future, limit)
            except TimeoutError:
                raise RealtimeTimeout(f"no reply to {message['type']!r} within {limit}s") from None
        finally:
            self._pending.pop(request_id, None)
            for kind in also_answered_by:
                if self._pending_by_type.get(kind) is future:
                    del self._pending_by_type[kind]
        if reply.get("type") == "error":
            raise refused(str(reply.get("message") or "refused"), code=str(reply.get("code") or "error"))
        return reply

    # --- admission -----------------------------------------------------------------------

    async def _admit(
        self, link: _Link, *, resume: str | None = None, subscribe: bool = False, in_url: bool = False
    ) -> Message:
        """Send ``join`` (unless the socket's URL was the join) and follow the admission dialogue
        until ``joined`` or a refusal."""
        queue: asyncio.Queue[Message] = asyncio.Queue()
        self._admission = queue
        self._join_id = None if in_url else next(self._ids)
        error: Message | None = None
        limit = self.timeout
        try:
            if not in_url:
                message: Message = {"type": "join", "id": self._join_id}
                if self.display_name is not None:
                    message["display_name"] = self.display_name
                if resume is not None:
                    message["resume"] = resume
                if subscribe:
                    message["subscribe"] = True
                await self._send(message)
            while True:
                try:
                    frame = await asyncio.wait_for(queue.get(), limit)
                except TimeoutError:
                    if error is not None:  # an error frame whose close never came
                        raise self._refusal(error, link) from None
                    what = "admission by a moderator" if self.waiting else "an answer to join"
                    raise RealtimeTimeout(f"no {what} within {limit}s") from None
                kind = frame.get("type")
                if kind == "joined":
                    self._apply_joined(frame)
                    return frame
                if kind == "waiting":
                    self.waiting, limit = True, self.admission_timeout
                elif kind == "admitted":
                    self.waiting, limit = False, self.timeout
                elif kind == "denied":
                    error, limit = {"code": "denied", "message": "a moderator denied admission"}, 2.0
                elif kind == "error":
                    error, limit = frame, 2.0  # the close (with its code) follows
                elif kind == _CLOSED:
                    raise self._refusal(error, link)
        finally:
            self._admission = None

    @staticmethod
    def _refusal(error: Message | None, link: _Link) -> RealtimeError:
        """A refusal (error frame or 44xx close), or a plain lost connection (e.g. a server crash)."""
        code = str(error.get("code")) if error and error.get("code") else None
        message = str(error.get("message")) if error and error.get("message") else None
        if message is None:
            message = link.close_reason or f"the server closed the socket ({link.close_code})"
        close_code = link.close_code
        if error is None and (close_code is None or not 4000 <= close_code < 5000):
            return ConnectionLost(f"the connection closed during join: {message}", close_code=close_code)
        return AdmissionRefused(message, code=code, close_code=close_code)

    def _apply_joined(self, frame: Message) -> None:
        self.participant = frame.get("participant") or {}
        self.session_id = frame.get("session_id")
        self.room = {**self.room, **(frame.get("room") or {})}  # a resume's `joined` names only the id
        self.permissions = dict(frame.get("permissions") or {})
        self.participants = {str(p["id"]): p for p in frame.get("participants") or [] if "id" in p}
        self.room_feeds = {f["feed_id"]: str(f.get("participant_id")) for f in frame.get("feeds") or []}
        self.resume_token = frame.get("resume_token") or self.resume_token
        self.resumed = bool(frame.get("resumed"))
        self.waiting = False
        self._joined = True

    # --- dispatch ------------------------------------------------------------------------

    def _dispatch(self, message: Message) -> None:
        kind = str(message.get("type"))
        self.events.append(message)
        for wanted, listener in list(self._listeners):
            if wanted in (kind, "*"):
                try:
                    listener(message)
                except Exception:
                    logger.exception("a %r listener failed", kind)
        reply_to = message.get("reply_to")
        if kind in ("waiting", "admitted") and self._admission is not None:
            self.waiting = kind == "waiting"  # visible at once, before join() resumes
        if (
            self._admission is not None
            and kind in _ADMISSION_TYPES
            and (kind != "error" or reply_to is None or reply_to == self._join_id)
        ):
            self._admission.put_nowait(message)
            return
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(message)
        future = self._pending.get(reply_to) if isinstance(reply_to, int) else None
        if future is None and reply_to is None:
            future = self._pending_by_type.get(kind)
        if future is not None and not future.done():
            future.set_result(message)
        elif kind == "error":
            logger.warning("server error: %s: %s", message.get("code"), message.get("message"))
            self.errors.append(message)

    def _on_participant_joined(self, message: Message) -> None:
        self._on_participant_updated(message)

    def _on_participant_updated(self, message: Message) -> None:
        participant = message.get("participant") or {}
        pid = str(participant.get("id"))
        if pid == self.participant_id:
            self.participant = participant
        else:
            self.participants[pid] = participant
        self.waiting_participants.pop(pid, None)

    def _on_participant_left(self, message: Message) -> None:
        self.participants.pop(str(message.get("participant_id")), None)

    def _on_participant_waiting(self, message: Message) -> None:
        participant = message.get("participant") or {}
        self.waiting_participants[str(participant.get("id"))] = participant

    def _on_feed_published(self, message: Message) -> None:
        self.room_feeds[message.get("feed_id")] = str(message.get("participant_id"))

    def _on_feed_unpublished(self, message: Message) -> None:
        self.room_feeds.pop(message.get("feed_id"), None)

    def _on_room_updated(self, message: Message) -> None:
        if "is_locked" in message:
            self.room["is_locked"] = message["is_locked"]

    def _on_subscriber_offer(self, message: Message) -> None:
        self._offers.put_nowait(message)

    def _on_trickle(self, message: Message) -> None:
        target = message.get("target")
        sink = self._candidates.get(str(target))
        if sink is None:
            logger.warning("ignoring a trickle for unknown target %r", target)
            return
        self._spawn(sink.add(message.get("candidate")))

    def _on_kicked(self, message: Message) -> None:
        self.end_reason = str(message.get("reason") or "kicked")

    def _on_session_ended(self, message: Message) -> None:
        self.end_reason = str(message.get("reason") or "session_ended")

    def _on_room_media_lost(self, message: Message) -> None:
        """The node hosting the room went away: our peer connections are dead; rejoin for new ones."""
        if self.auto_resume and not self._leaving:
            self._start_resume()

    # --- close and resume ----------------------------------------------------------------

    def _on_link_closed(self, link: _Link) -> None:
        code = link.close_code
        error: RealtimeError
        if code in _CLOSE_ERRORS:
            reason = self.end_reason or link.close_reason or f"closed with {code}"
            error = _CLOSE_ERRORS[code](reason, code=self.end_reason, close_code=code)
        else:
            last = self.errors[-1] if self.errors else {}
            error = ConnectionLost(
                link.close_reason or str(last.get("message") or f"the socket closed ({code})"),
                code=last.get("code"),
                close_code=code,
            )
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        if self._admission is not None:
            self._admission.put_nowait({"type": _CLOSED})
            return
        if self._leaving or not self._joined:
            return
        dropped = code is None or not 4000 <= code < 5000
        if dropped and self.auto_resume and self.resume_token is not None:
            self._start_resume()
            return
        self._finish(error)

    def _start_resume(self) -> None:
        if self._resume_task is None or self._resume_task.done():
            self._resume_task = asyncio.get_running_loop().create_task(self._auto_resume())

    async def _auto_resume(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.resume_window
        delay = 0.25
        while not self._leaving:
            try:
                await self._resume()
                return
            except AdmissionRefused as exc:
                self._finish(
                    ConnectionLost(f"resume refused: {exc}", code=exc.code, close_code=exc.close_code)
                )
                return
            except (RealtimeError, ConclaveConnectionError) as exc:
                if loop.time() + delay > deadline:
                    self._finish(ConnectionLost(f"could not resume within {self.resume_window}s: {exc}"))
                    return
                logger.info("resume failed (%s); retrying in %.2fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _resume(self) -> None:
        async with self._resume_lock:
            old = self._link
            await self._teardown_media()
            link = await self._connect()
            self._link = link  # from here on the old socket's frames and close are ignored
            try:
                await self._admit(link, resume=self.resume_token, subscribe=self._subscribed)
            except BaseException:
                if self._link is link:
                    self._link = None
                await self._close_link(link)
                raise
            finally:
                if old is not None:
                    await self._close_link(old)
            self.resume_count += 1
            if self._publish_options is not None:
                audio, video = self._publish_options
                await self.publish(audio=audio, video=video)

    def _finish(self, error: RealtimeError | None) -> None:
        if self._closed.is_set():
            return
        self._close_error = error
        self._closed.set()
        self._spawn(self._shutdown())

    async def _shutdown(self) -> None:
        self._closed.set()
        current = asyncio.current_task()
        for task in (self._offer_worker, self._resume_task):
            if task is not None and not task.done() and task is not current:
                task.cancel()
        await self._teardown_media()
        if self._link is not None:
            await self._close_link(self._link)
        pending = [task for task in self._tasks if not task.done() and task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        tasks = [t for t in (self._offer_worker, self._resume_task) if t is not None and t is not current]
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._source is not None:
            self._source.close()
            self._source = None

    # --- peer connections ----------------------------------------------------------------

    def _require_joined(self) -> None:
        if self._closed.is_set():
            raise self._close_error or RealtimeError("this participant has left the room")
        if not self._joined:
            raise RealtimeError("join first")

    def _new_pc(self) -> RTCPeerConnection:
        return RTCPeerConnection(RTCConfiguration(iceServers=list(self.ice_servers)))

    @contextlib.contextmanager
    def _ice_scope(self) -> Iterator[None]:
        """Gathering inside this block uses only ``ice_addresses`` (when set)."""
        if self.ice_addresses is None:
            yield
            return
        with restrict_host_addresses(self.ice_addresses):
            yield

    def _check_candidates(self, sdp: str) -> None:
        if self.ice_addresses is None:
            return
        offered = candidate_addresses(sdp)
        if not offered:
            raise IceConfigurationError(
                f"no ICE candidate could be gathered on {sorted(self.ice_addresses)}: "
                "is that address configured on this host?"
            )
        if not offered <= self.ice_addresses:
            raise IceConfigurationError(f"gathered {sorted(offered)}, allowed {sorted(self.ice_addresses)}")

    async def _wait_connected(self, pc: RTCPeerConnection, what: str) -> None:
        changed = asyncio.Event()

        def on_change() -> None:
            changed.set()

        pc.on("connectionstatechange", on_change)
        try:
            async with asyncio.timeout(self.timeout):
                while pc.connectionState not in ("connected", "failed", "closed"):
                    changed.clear()
                    await changed.wait()
        except TimeoutError:
            raise MediaConnectionFailed(
                f"the {what} connection is still {pc.connectionState!r} after {self.timeout}s"
            ) from None
        finally:
            pc.remove_listener("connectionstatechange", on_change)
        if pc.connectionState != "connected":
            raise MediaConnectionFailed(f"the {what} connection {pc.connectionState}")

    async def _close_publisher(self) -> None:
        pc, self._publisher = self._publisher, None
        self._senders.clear()
        self._tracks.clear()
        self.feed_id = None
        self._candidates["publisher"].reset()
        if pc is not None:
            await pc.close()

    async def _teardown_media(self) -> None:
        """Close both peer connections (a resume needs new ones) and stop decoding."""
        await self._close_publisher()
        async with self._sub_lock:
            while not self._offers.empty():
                self._offers.get_nowait()
            pc, self._subscriber = self._subscriber, None
            self._subscriber_trickle_done = False
            self._candidates["subscriber"].reset()
            consumers, self._consumers = self._consumers, set()
            for task in consumers:
                task.cancel()
            await asyncio.gather(*consumers, return_exceptions=True)
            if pc is not None:
                await pc.close()

    async def _answer_offers(self) -> None:
        """The one worker answering ``subscriber_offer`` frames, strictly in arrival order."""
        while True:
            offer = await self._offers.get()
            try:
                async with self._sub_lock:
                    await self._answer_offer(offer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("could not answer a subscriber offer: %s", exc)
                self.media_errors.append(f"subscriber offer: {exc}")

    async def _answer_offer(self, offer: Message) -> None:
        for stream in offer.get("streams") or []:
            if stream.get("mid") is not None:
                self._mid_streams[str(stream["mid"])] = stream
        pc = self._subscriber
        if pc is None:
            pc = self._subscriber = self._new_pc()
            subscriber = pc

            def on_track(track: MediaStreamTrack) -> None:
                mid = next((t.mid for t in subscriber.getTransceivers() if t.receiver.track is track), None)
                task = asyncio.get_running_loop().create_task(self._consume(track, mid))
                self._consumers.add(task)
                task.add_done_callback(self._consumers.discard)

            pc.on("track", on_track)
        with self._ice_scope():
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
            await self._candidates["subscriber"].attach(pc)
            await pc.setLocalDescription(await pc.createAnswer())
        self._check_candidates(pc.localDescription.sdp)
        await self._send({"type": "subscriber_answer", "sdp": pc.localDescription.sdp})
        if not self._subscriber_trickle_done:
            self._subscriber_trickle_done = True
            await self._send({"type": "trickle", "target": "subscriber", "candidate": None})
        self.subscriber_negotiations += 1

    async def _consume(self, track: MediaStreamTrack, mid: str | None) -> None:
        """Decode every frame of one remote track and count it against the feed behind its mid."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                frame = await track.recv()
                stream = self._mid_streams.get(str(mid)) or {}
                feed = stream.get("feed_id", f"mid:{mid}")
                stats = self._feed_stats.get(feed)
                if stats is None:
                    stats = self._feed_stats[feed] = FeedStats(feed, stream.get("participant_id"))
                if isinstance(frame, av.VideoFrame):
                    stats.video_frames += 1
                    stats.video_sizes.add((frame.width, frame.height))
                else:
                    stats.audio_frames += 1
                stats.last_frame_at = loop.time()
        except MediaStreamError:
            return

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

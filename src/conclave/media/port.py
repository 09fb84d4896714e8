"""The media engine port: what Conclave needs from an SFU, in domain terms.

Rooms, tokens and the API layer talk to this protocol only, so the SFU (today Janus,
driven over its WebSocket API) can be swapped or faked in tests of other layers without
them learning anything about Janus transactions, handles or plugin messages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol

__all__ = [
    "ForwardedStream",
    "IceCandidate",
    "MediaError",
    "MediaEvent",
    "MediaEventKind",
    "MediaEventListener",
    "MediaHandle",
    "MediaNodeUnavailable",
    "MediaRequestFailed",
    "MediaServer",
    "NodeHealth",
    "NodeLoad",
    "Participant",
    "PublishResult",
    "RtpForward",
    "SubscribeOffer",
    "SubscribedStream",
]


class MediaError(Exception):
    """Base of every failure raised by a media engine, so callers can catch one type."""


class MediaNodeUnavailable(MediaError):
    """The media node cannot be reached (socket down, timed out, reconnecting).

    Distinct from a refused request because the right reaction differs: retry later or
    move the room to another node, instead of reporting a client error.
    """


class MediaRequestFailed(MediaError):
    """The media node answered but refused the request (unknown room, bad SDP, ...)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"media request failed ({code}): {reason}")
        self.code = code
        self.reason = reason


HandleRole = Literal["publisher", "subscriber"]


@dataclass(frozen=True)
class MediaHandle:
    """Opaque reference to one peer connection on a media node.

    Callers keep it for the lifetime of the participant's connection and hand it back
    to trickle/unpublish/leave; the ids only mean something to the engine that made it.
    """

    room_key: str
    role: HandleRole
    session_id: int
    handle_id: int


@dataclass(frozen=True)
class PublishResult:
    """Outcome of joining a room as a publisher: the SDP answer and the new feed id."""

    feed_id: int
    sdp_answer: str
    handle: MediaHandle


@dataclass(frozen=True)
class SubscribedStream:
    """One m-line of a multistream subscription, so clients can map mids to feeds."""

    mid: str
    kind: str
    feed_id: int
    feed_mid: str | None


@dataclass(frozen=True)
class SubscribeOffer:
    """An SDP offer produced by the engine for a subscriber, plus the stream layout."""

    handle: MediaHandle
    sdp_offer: str
    streams: tuple[SubscribedStream, ...]


@dataclass(frozen=True)
class IceCandidate:
    """A trickled ICE candidate as browsers emit it (``RTCIceCandidate.toJSON()``)."""

    candidate: str
    sdp_mid: str | None = None
    sdp_mline_index: int | None = None


@dataclass(frozen=True)
class Participant:
    """A participant as the media node sees it (publishing or just joined)."""

    feed_id: int
    display: str | None
    publisher: bool
    talking: bool | None = None


@dataclass(frozen=True)
class ForwardedStream:
    """One RTP forwarder created on the node (one per forwarded m-line)."""

    stream_id: int
    kind: str
    host: str
    port: int


@dataclass(frozen=True)
class RtpForward:
    """The set of forwarders created by one ``rtp_forward`` call, needed to stop them."""

    room_key: str
    feed_id: int
    streams: tuple[ForwardedStream, ...]


@dataclass(frozen=True)
class NodeHealth:
    """Liveness data for a node: identity, version and round-trip time of a ping.

    ``accepting_sessions`` is False while a node is draining; new rooms go elsewhere.
    """

    name: str
    version: str
    plugins: tuple[str, ...]
    rtt_ms: float
    accepting_sessions: bool = True


@dataclass(frozen=True)
class NodeLoad:
    """How busy a node is, used to place new rooms on the least loaded node."""

    sessions: int
    handles: int


class MediaEventKind(StrEnum):
    """Asynchronous things that happen on a node that the room layer reacts to."""

    WEBRTC_UP = "webrtcup"
    HANGUP = "hangup"
    MEDIA = "media"
    SLOWLINK = "slowlink"
    DETACHED = "detached"
    TRICKLE = "trickle"
    SUBSCRIBER_OFFER = "subscriber_offer"
    JOINING = "joining"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"
    LEAVING = "leaving"
    KICKED = "kicked"
    ROOM_DESTROYED = "room_destroyed"
    NODE_DOWN = "node_down"
    NODE_UP = "node_up"


@dataclass(frozen=True)
class MediaEvent:
    """One asynchronous event, already mapped to Conclave terms.

    ``handle`` is the handle the event was delivered on (the observer), ``feed_id`` the
    participant it is about (which may be someone else, e.g. a ``kicked`` notification).
    ``TRICKLE`` events carry the node's own ICE candidate for the client under
    ``data["candidate"]`` (an :class:`IceCandidate`, or None for end-of-candidates).
    ``SUBSCRIBER_OFFER`` events carry a :class:`SubscribeOffer` under ``data["offer"]``:
    the node renegotiated a subscription by itself (a feed went away, or a postponed
    update was applied) and the client must answer it through ``start_subscriber``.
    """

    kind: MediaEventKind
    room_key: str | None = None
    handle: MediaHandle | None = None
    feed_id: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


MediaEventListener = Callable[[MediaEvent], None]


class MediaServer(Protocol):
    """What the room layer may ask of a media engine. All verbs are coroutines."""

    async def create_room(
        self, room_key: str, *, audio_only: bool, max_publishers: int, record_dir: str | None
    ) -> None:
        """Create the SFU room for ``room_key`` (recording from the start if ``record_dir``)."""
        ...

    async def destroy_room(self, room_key: str) -> None:
        """Destroy the room; everyone still inside is disconnected by the node."""
        ...

    async def join_publisher(self, room_key: str, display: str, sdp_offer: str) -> PublishResult:
        """Join ``room_key`` and publish the media described by ``sdp_offer``."""
        ...

    async def subscribe(self, room_key: str, feeds: Sequence[int]) -> SubscribeOffer:
        """Open one multistream subscriber receiving all streams of ``feeds``."""
        ...

    async def start_subscriber(self, handle: MediaHandle, sdp_answer: str) -> None:
        """Complete a subscriber negotiation with the client's answer."""
        ...

    async def update_subscription(
        self, handle: MediaHandle, *, add: Sequence[int] = (), remove: Sequence[int] = ()
    ) -> SubscribeOffer | None:
        """Add/remove feeds; returns a renegotiation offer, or None when none is needed yet."""
        ...

    async def trickle(self, handle: MediaHandle, candidate: IceCandidate | None) -> None:
        """Forward a client ICE candidate; ``None`` signals end-of-candidates."""
        ...

    async def unpublish(self, handle: MediaHandle) -> None:
        """Stop publishing but stay in the room (e.g. camera and mic turned off)."""
        ...

    async def leave(self, handle: MediaHandle) -> None:
        """Tear down the handle's peer connection and release it on the node."""
        ...

    async def kick(self, room_key: str, feed_id: int) -> None:
        """Forcibly remove a participant from the room."""
        ...

    async def moderate(
        self, room_key: str, feed_id: int, *, mute_audio: bool | None = None, mute_video: bool | None = None
    ) -> None:
        """Block (True) or unblock (False) relaying a publisher's audio/video; None leaves it."""
        ...

    async def set_recording(self, room_key: str, enabled: bool, *, record_dir: str | None = None) -> None:
        """Start/stop recording every publisher of the room to ``.mjr`` files."""
        ...

    async def rtp_forward(
        self, room_key: str, feed_id: int, host: str, audio_port: int | None, video_port: int | None
    ) -> RtpForward:
        """Mirror a publisher's RTP to ``host`` (for egress, transcription, ...)."""
        ...

    async def stop_rtp_forward(self, forward: RtpForward) -> None:
        """Stop the forwarders created by :meth:`rtp_forward`."""
        ...

    async def list_participants(self, room_key: str) -> list[Participant]:
        """Who the node believes is in the room."""
        ...

    async def health(self) -> NodeHealth:
        """Ping the node and report its identity; raises MediaNodeUnavailable if down."""
        ...

    async def load(self) -> NodeLoad:
        """Count sessions/handles on the node (admin API)."""
        ...

    def add_event_listener(self, listener: MediaEventListener) -> Callable[[], None]:
        """Register a callback for :class:`MediaEvent`; returns a function removing it."""
        ...

    async def aclose(self) -> None:
        """Release the connection to the node."""
        ...

"""Messages of the realtime protocol (docs/realtime-protocol.md): parsing and shapes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from conclave.kit.time import isoformat
from conclave.sessions.models import Participant

CLOSE_PROTOCOL = 4400
CLOSE_KICKED = 4410
CLOSE_SESSION_ENDED = 4411
CLOSE_REPLACED = 4412
CLOSE_DENIED = 4403
JOIN_TIMEOUT_SECONDS = 10.0
# What ``/rtc?subscribe=…`` accepts as yes.
TRUE_QUERY_VALUES = frozenset({"1", "true"})


def answer(frame: dict[str, Any], request: Any = None) -> dict[str, Any]:
    """``frame`` as the reply to ``request``: with ``reply_to`` when the request had an ``id``."""
    request_id = getattr(request, "id", None)
    return frame if request_id is None else {**frame, "reply_to": request_id}


def error_frame(code: str, message: str, request: Any = None) -> dict[str, Any]:
    return answer({"type": "error", "code": code, "message": message}, request)


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int | None = None


class Join(_Message):
    type: Literal["join"]
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    resume: str | None = Field(default=None, max_length=64)
    # Receive every other feed from the start, as if ``subscribe`` followed ``joined``: the server
    # prepares the subscriber while it admits, so the first offer comes right after ``joined``.
    subscribe: bool = False


class Publish(_Message):
    type: Literal["publish"]
    sdp: str = Field(min_length=1, max_length=200_000)
    audio: bool = True
    video: bool = True


class Unpublish(_Message):
    type: Literal["unpublish"]


class Subscribe(_Message):
    type: Literal["subscribe"]


class SubscriberAnswer(_Message):
    type: Literal["subscriber_answer"]
    sdp: str = Field(min_length=1, max_length=200_000)


class Candidate(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    candidate: str = Field(max_length=2000)
    sdp_mid: str | None = Field(default=None, alias="sdpMid")
    sdp_mline_index: int | None = Field(default=None, alias="sdpMLineIndex")


class Trickle(_Message):
    type: Literal["trickle"]
    target: Literal["publisher", "subscriber"]
    candidate: Candidate | None = None


class Mute(_Message):
    type: Literal["mute"]
    audio: bool | None = None
    video: bool | None = None


class Moderate(_Message):
    type: Literal["moderate"]
    action: Literal["mute", "kick", "admit", "deny", "lock", "unlock", "end_session"]
    participant_id: str | None = None
    audio: bool | None = None
    video: bool | None = None
    ban_seconds: int | None = Field(default=None, ge=1, le=10 * 365 * 24 * 3600)


class Chat(_Message):
    type: Literal["chat"]
    message: str = Field(min_length=1, max_length=4000)
    to: str | None = Field(default=None, max_length=36)


class Hand(_Message):
    type: Literal["hand"]
    raised: bool


class Reaction(_Message):
    type: Literal["reaction"]
    emoji: str = Field(min_length=1, max_length=16)


class Leave(_Message):
    type: Literal["leave"]


class Ping(_Message):
    type: Literal["ping"]


ClientMessage = Annotated[
    Join
    | Publish
    | Unpublish
    | Subscribe
    | SubscriberAnswer
    | Trickle
    | Mute
    | Moderate
    | Chat
    | Hand
    | Reaction
    | Leave
    | Ping,
    Field(discriminator="type"),
]
client_message: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
CORE_TYPES = frozenset(
    model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for model in (
        Join,
        Publish,
        Unpublish,
        Subscribe,
        SubscriberAnswer,
        Trickle,
        Mute,
        Moderate,
        Chat,
        Hand,
        Reaction,
        Leave,
        Ping,
    )
)


def participant_view(participant: Participant) -> dict[str, Any]:
    return {
        "id": participant.id,
        "external_id": participant.external_id,
        "name": participant.name,
        "role": participant.role,
        "joined_at": isoformat(participant.joined_at),
        "publishing": participant.feed_id is not None,
        "feed_id": participant.feed_id,
        "audio_muted": participant.audio_muted,
        "video_muted": participant.video_muted,
        "hand_raised": participant.hand_raised,
    }

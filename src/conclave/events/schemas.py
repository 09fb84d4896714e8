"""The event catalogue and the shapes events take on the wire (log entries, webhook payloads)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from conclave.kit.schemas import ResponseModel, Timestamp

# Every event type Conclave emits or has reserved, with what triggers it. Types marked
# "reserved" are part of the public contract (webhook subscriptions may name them) and are
# emitted by the domains that land with their own issues; see docs/events.md.
EVENT_TYPES: dict[str, str] = {
    "room.created": "a room was created",
    "room.updated": "a room's settings changed",
    "room.deleted": "a room was deleted",
    "room.ended": "a room was closed for good (no one can join it again)",
    "room.media_lost": "the media node hosting the room's session went away; clients must rejoin",
    "session.started": "a meeting began (first participant admitted)",
    "session.ended": "a meeting ended (empty timeout, session length, moderator, API, room end, restart)",
    "participant.joined": "a participant was admitted to a session",
    "participant.updated": "a participant's mute state changed (by themselves or a moderator)",
    "participant.left": "a participant left a session (left, disconnected, kicked, session_ended)",
    "recording.started": "a recording began",
    "recording.stopped": "a recording ended",
    "recording.ready": "a recording was processed and is available",
    "recording.failed": "a recording could not be produced",
    "transcript.ready": "a session that had captions ended: its transcript is complete",
    "transcript.segment": "a final caption line was stored (and shown live)",
    "summary.ready": "a session summary was produced",
    "chat.message": "a chat message was sent",
    "poll.created": "a poll was created (a draft)",
    "poll.started": "a poll was launched in a live session and takes votes",
    "poll.ended": "a poll was closed; carries its results",
    "poll.voted": "a participant voted in a poll",
    "poll.deleted": "a poll was deleted",
    "question.created": "a Q&A question was asked (meeting or API)",
    "question.updated": "a question changed: edited, voted, dismissed/reopened, live answer",
    "question.deleted": "a question was deleted",
    "answer.created": "a question was answered (``private`` answers reach only the asker live)",
    "answer.updated": "an answer was edited",
    "answer.deleted": "an answer was deleted",
    "quiz.created": "a quiz was created",
    "quiz.started": "a quiz was launched in a live session (with its deadline)",
    "quiz.answered": "a participant answered a quiz question",
    "quiz.ended": "a quiz run ended (by a moderator, the API or its deadline); carries its results",
    "quiz.deleted": "a quiz was deleted",
    "restream.started": "reserved: RTMP restreaming began",
    "restream.stopped": "reserved: RTMP restreaming stopped",
    "restream.failed": "reserved: RTMP restreaming failed",
}
EVENT_FAMILIES = frozenset(name.split(".", 1)[0] for name in EVENT_TYPES)


def is_known_pattern(pattern: str) -> bool:
    """An exact event type, a family wildcard such as ``room.*``, or ``*`` for everything."""
    if pattern == "*" or pattern in EVENT_TYPES:
        return True
    family, dot, rest = pattern.partition(".")
    return bool(dot) and rest == "*" and family in EVENT_FAMILIES


def matches(patterns: list[str], event_type: str) -> bool:
    """An empty subscription means every event."""
    if not patterns:
        return True
    family = event_type.split(".", 1)[0]
    return any(p == "*" or p == event_type or p == f"{family}.*" for p in patterns)


class EventOut(ResponseModel):
    """A log entry: the webhook payload plus the event's identity."""

    id: str
    event: str = Field(validation_alias="type")
    timestamp: Timestamp = Field(validation_alias="created_at")
    room_id: str | None
    session_id: str | None
    data: dict[str, Any]

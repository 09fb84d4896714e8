"""Qriib's ``get_analytics`` body, computed from Conclave's room event log.

Qriib reports a room as a list of named series (``{"name", "total", "values": [{"time", "value"}]}``)
for the room and for each user. Conclave has no analytics store; the room event log
(``EventLogService``) is the source, so only the series Conclave really records are produced, in
the order of Qriib's capture. The series Qriib has and Conclave has no event for (talk time,
connection quality, whiteboard, breakout rooms, RTMP, speech services, interface visibility …) are
left out rather than reported as zeros, since a zero would claim the thing was measured.

Mapping (every ``time`` is the event's time in epoch milliseconds, as a string):

room series
    ``poll_added``        ``poll.started`` (a poll launched in the meeting); value: the poll id
    ``poll_ended``        ``poll.ended``; value: the poll id
    ``recording_status``  ``recording.started`` → ``ANALYTICS_STATUS_STARTED:<media node>`` (the
                          session's media node, when known), ``recording.stopped`` →
                          ``ANALYTICS_STATUS_ENDED``
user series (a user is a participant's external id — Qriib's ``user_id`` — or, without one,
the participant id; several visits of one user are one entry)
    ``mic_status``        ``participant.updated`` when ``audio_muted`` changes (a participant
                          joins unmuted, the column's default): unmuted →
                          ``ANALYTICS_STATUS_STARTED``, muted → ``ANALYTICS_STATUS_ENDED``
    ``webcam_status``     the same for ``video_muted``
    ``joined``/``left``   ``participant.joined``/``participant.left``; value: the time in epoch
                          milliseconds rounded down to the second, as captured
    ``public_chat``       ``chat.message`` sent by the user, not private; value: the message id
    ``raise_hand``        ``participant.updated`` when ``hand_raised`` changes: raised →
                          ``ANALYTICS_STATUS_STARTED``, lowered → ``ANALYTICS_STATUS_ENDED``
    ``private_chat``      ``chat.message`` sent by the user, private; value: the message id
    ``voted_poll``        ``poll.voted`` by the user (anonymous polls name nobody, so they are
                          not counted); value: the poll id
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conclave.events.models import RoomEvent

STARTED = "ANALYTICS_STATUS_STARTED"
ENDED = "ANALYTICS_STATUS_ENDED"
ROOM_SERIES = ("poll_added", "poll_ended", "recording_status")
USER_SERIES = (
    "mic_status",
    "webcam_status",
    "joined",
    "public_chat",
    "raise_hand",
    "left",
    "private_chat",
    "voted_poll",
)
# participant.updated flags → the user series they drive.
_TOGGLES = (("audio_muted", "mic_status", True), ("video_muted", "webcam_status", True))
_HAND = ("hand_raised", "raise_hand", False)
# A participant enters unmuted with the hand down (the columns' defaults); later reports count
# only when they change that.
_JOIN_STATE = {"audio_muted": False, "video_muted": False, "hand_raised": False}
# Roles that are Qriib admins (host and moderator both join as Conclave's moderator).
ADMIN_ROLES = frozenset({"moderator"})


def epoch_ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def epoch_seconds(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def _series(names: tuple[str, ...], values: dict[str, list[dict[str, str]]]) -> list[dict[str, Any]]:
    out = []
    for name in names:
        points = values.get(name, [])
        out.append({"name": name, "total": len(points), "values": points})
    return out


@dataclass
class _User:
    user_id: str
    name: str = ""
    role: str = ""
    values: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    state: dict[str, bool] = field(default_factory=dict)

    def add(self, name: str, moment: datetime, value: str) -> None:
        self.values.setdefault(name, []).append({"time": epoch_ms(moment), "value": value})


@dataclass(frozen=True)
class RoomFacts:
    """What the room row (or, for a deleted room, its log) says about the room itself."""

    room_id: str
    title: str | None
    created_at: datetime | None
    ended_at: datetime | None


class AnalyticsBuilder:
    """Feed the room's events oldest first, then ask for the body."""

    def __init__(self, media_nodes: dict[str, str | None]) -> None:
        self._media_nodes = media_nodes  # session id → media node name
        self._room: dict[str, list[dict[str, str]]] = {}
        self._users: dict[str, _User] = {}
        self._user_of_participant: dict[str, str] = {}

    def _user(self, data: dict[str, Any]) -> _User | None:
        participant_id = data.get("participant_id")
        key = data.get("external_id") or participant_id
        if not isinstance(key, str) or not key:
            return None
        user = self._users.setdefault(key, _User(user_id=key))
        if isinstance(participant_id, str):
            self._user_of_participant[participant_id] = key
        if isinstance(data.get("name"), str):
            user.name = data["name"]
        if isinstance(data.get("role"), str):
            user.role = data["role"]
        return user

    def _author(self, participant_id: Any, external_id: Any = None) -> _User | None:
        key = self._user_of_participant.get(participant_id) if isinstance(participant_id, str) else None
        key = key or (external_id if isinstance(external_id, str) and external_id else None)
        return self._users.get(key) if key else None

    def _room_point(self, name: str, moment: datetime, value: str) -> None:
        self._room.setdefault(name, []).append({"time": epoch_ms(moment), "value": value})

    def add(self, event: RoomEvent) -> None:
        data, moment = event.data, event.created_at
        if event.type in ("participant.joined", "participant.left"):
            user = self._user(data)
            if user is not None:
                name = "joined" if event.type == "participant.joined" else "left"
                if name == "joined":
                    user.state = dict(_JOIN_STATE)
                user.add(name, moment, str(int(moment.timestamp()) * 1000))
        elif event.type == "participant.updated":
            user = self._user(data)
            if user is not None:
                self._toggles(user, data, moment)
        elif event.type == "chat.message":
            author = self._author(data.get("participant_id"), data.get("external_participant_id"))
            if author is not None:
                kind = "private_chat" if data.get("private") else "public_chat"
                author.add(kind, moment, str(data.get("id", "")))
        elif event.type == "poll.voted":
            voter = self._author(data.get("participant_id"))
            if voter is not None:
                voter.add("voted_poll", moment, str(data.get("poll_id", "")))
        elif event.type in ("poll.started", "poll.ended"):
            name = "poll_added" if event.type == "poll.started" else "poll_ended"
            self._room_point(name, moment, str(data.get("poll_id", "")))
        elif event.type == "recording.started":
            node = self._media_nodes.get(event.session_id or "")
            self._room_point("recording_status", moment, f"{STARTED}:{node}" if node else STARTED)
        elif event.type == "recording.stopped":
            self._room_point("recording_status", moment, ENDED)

    @staticmethod
    def _toggles(user: _User, data: dict[str, Any], moment: datetime) -> None:
        """A state report becomes a point only when it changes the user's known state."""
        for flag, series, on_when_false in (*_TOGGLES, _HAND):
            value = data.get(flag)
            if not isinstance(value, bool) or user.state.get(flag) == value:
                continue
            user.state[flag] = value
            active = (not value) if on_when_false else value
            user.add(series, moment, STARTED if active else ENDED)

    def body(self, room: RoomFacts) -> dict[str, Any]:
        users = [
            {
                "events": _series(USER_SERIES, user.values),
                "is_admin": user.role in ADMIN_ROLES,
                "name": user.name,
                "user_id": user.user_id,
            }
            for user in self._users.values()
        ]
        duration = (
            str(int(room.ended_at.timestamp()) - int(room.created_at.timestamp()))
            if room.created_at is not None and room.ended_at is not None
            else None
        )
        room_body: dict[str, Any] = {
            "events": _series(ROOM_SERIES, self._room),
            "room_creation": epoch_seconds(room.created_at) if room.created_at else None,
            "room_duration": duration,
            "room_ended": epoch_seconds(room.ended_at) if room.ended_at else None,
            "room_id": room.room_id,
            "room_title": room.title,
            "room_total_users": str(len(users)),
        }
        data = {"data": {"room": room_body, "users": users}, "room_id": room.room_id}
        return {"data": data, "status": True}

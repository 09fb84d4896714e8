"""Videsk shapes: the room object, create/patch bodies, list query forms, and the id mapping."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator
from starlette.datastructures import QueryParams

from conclave.access.models import IssuedToken
from conclave.kit.errors import BadRequest
from conclave.rooms.models import Room
from conclave.rooms.repository import RoomQuery
from conclave.rooms.schemas import UtcDateTime

OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
# Videsk's sortable fields → Conclave room columns.
SORT_FIELDS = {
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "name": "name",
    "nbf": "nbf",
    "exp": "exp",
    "externalId": "external_id",
}
# Keys of the create body's "Room configuration settings" → Conclave room fields.
SETTING_FIELDS = {
    "maxParticipants": "max_participants",
    "recordingEnabled": "recordings_enabled",
    "chatEnabled": "chat_enabled",
    "screenshareEnabled": "screenshare_enabled",
}


# -- ids ----------------------------------------------------------------------------------------


def object_id(room: Room) -> str:
    """The 24-hex ObjectId-style id Videsk clients see: the first 24 hex digits of the room UUID."""
    return room.id.replace("-", "")[:24].lower()


def uuid_prefix(value: str) -> str | None:
    """For a 24-hex path segment, the dashed UUID prefix it stands for; None for an externalId."""
    if not OBJECT_ID.match(value):
        return None
    h = value.lower()
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:24]}"


# -- output -------------------------------------------------------------------------------------


def _js_iso(value: datetime) -> str:
    """JavaScript's ``Date.toISOString()``: milliseconds and ``Z``, as the reference prints."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


JsDate = Annotated[datetime, PlainSerializer(_js_iso, return_type=str)]


class Authorization(BaseModel):
    ip: str | None
    jti: str
    createdAt: JsDate


class VideskRoom(BaseModel):
    id: str
    name: str | None
    externalId: str | None
    exp: JsDate | None
    nbf: JsDate | None
    ended: bool
    createdAt: JsDate
    updatedAt: JsDate
    authorizations: list[Authorization]


class VideskRoomWithToken(VideskRoom):
    accessToken: str


class VideskRoomPatched(VideskRoom):
    accessToken: str | None = Field(default=None, description="Present when generateToken was true.")


class VideskPage(BaseModel):
    total: int
    limit: int
    skip: int
    data: list[VideskRoom]


class JoinOut(BaseModel):
    accessToken: str


def room_view(room: Room, tokens: Iterable[IssuedToken]) -> dict[str, Any]:
    """A Conclave room as a Videsk room; ``authorizations`` are the tokens issued for it.

    ``ip`` is where a token first admitted someone; it stays null until the token is used.
    """
    return {
        "id": object_id(room),
        "name": room.name,
        "externalId": room.external_id,
        "exp": room.exp,
        "nbf": room.nbf,
        "ended": room.status == "ended",
        "createdAt": room.created_at,
        "updatedAt": room.updated_at,
        "authorizations": [
            {"ip": token.first_used_ip, "jti": token.jti, "createdAt": token.created_at} for token in tokens
        ],
    }


# -- input --------------------------------------------------------------------------------------


class VideskBody(BaseModel):
    """Bodies are validated strictly: unknown fields and wrong JSON types are a BadRequest."""

    model_config = ConfigDict(strict=True, extra="forbid")


class RoomSettings(VideskBody):
    maxParticipants: int | None = Field(default=None, ge=1, le=100000)
    recordingEnabled: bool | None = None
    chatEnabled: bool | None = None
    screenshareEnabled: bool | None = None


class VideskRoomCreate(VideskBody):
    externalId: str | None = Field(default=None, min_length=1, max_length=255)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    exp: UtcDateTime | None = None
    nbf: UtcDateTime | None = None
    settings: RoomSettings | None = Field(
        default=None,
        description='Room configuration, e.g. {"maxParticipants": 10, "recordingEnabled": true}.',
    )

    @model_validator(mode="after")
    def _window(self) -> VideskRoomCreate:
        if self.nbf and self.exp and self.exp <= self.nbf:
            raise ValueError("exp must be later than nbf")
        return self

    def settings_fields(self) -> dict[str, Any]:
        if self.settings is None:
            return {}
        return {
            SETTING_FIELDS[key]: value
            for key, value in self.settings.model_dump(exclude_none=True).items()
            if key in SETTING_FIELDS
        }


class VideskRoomPatch(VideskBody):
    generateToken: bool = False
    exp: UtcDateTime | None = None
    nbf: UtcDateTime | None = None
    ended: bool | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _window(self) -> VideskRoomPatch:
        if self.nbf and self.exp and self.exp <= self.nbf:
            raise ValueError("exp must be later than nbf")
        return self


class JoinBody(VideskBody):
    """Currently empty, as the reference says; any field is refused rather than ignored."""


# -- list query ---------------------------------------------------------------------------------

_BRACKETED = re.compile(r"^\$?sort\[([A-Za-z]+)\]$")


def _integer(value: str, name: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} must be an integer", code="invalid_query") from None
    if number < minimum:
        raise BadRequest(f"{name} must be at least {minimum}", code="invalid_query")
    return number


def _boolean(value: str, name: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise BadRequest(f"{name} must be true or false", code="invalid_query")


def _direction(value: Any, field: str) -> str:
    if str(value) in ("1", "asc", "ascending"):
        return "asc"
    if str(value) in ("-1", "desc", "descending"):
        return "desc"
    raise BadRequest(f"sort direction for {field!r} must be 1 or -1", code="invalid_query")


def _sort_pairs(query: QueryParams) -> list[tuple[str, Any]]:
    """Every sort form a client may send, as (field, direction) pairs in order."""
    pairs: list[tuple[str, Any]] = []
    for key, value in query.multi_items():
        bracketed = _BRACKETED.match(key)
        if bracketed:
            pairs.append((bracketed.group(1), value))
        elif key in ("sort", "$sort"):
            text = value.strip()
            if text.startswith("{"):
                try:
                    parsed = json.loads(text)
                except json.JSONDecodeError:
                    raise BadRequest(
                        'sort must be a JSON object such as {"createdAt":-1}', code="invalid_query"
                    ) from None
                if not isinstance(parsed, dict):
                    raise BadRequest("sort must be a JSON object", code="invalid_query")
                pairs.extend(parsed.items())
            else:
                for part in filter(None, (p.strip() for p in text.split(","))):
                    field, _, direction = part.partition(":")
                    pairs.append((field, direction or "1"))
    return pairs


def parse_list_query(query: QueryParams) -> RoomQuery:
    """``limit``/``skip``/``sort`` and the ``ended``/``externalId`` filters, plain or Feathers-style.

    Accepted: ``limit`` or ``$limit`` (default 10, at most 100), ``skip`` or ``$skip``, and sort as
    JSON (``sort={"createdAt":-1}``), Feathers brackets (``$sort[createdAt]=-1``, ``sort[createdAt]=-1``)
    or ``sort=createdAt:-1``.
    """
    limit = DEFAULT_LIMIT
    skip = 0
    for name in ("limit", "$limit"):
        if name in query:
            limit = min(_integer(query[name], name, 0), MAX_LIMIT)
    for name in ("skip", "$skip"):
        if name in query:
            skip = _integer(query[name], name, 0)
    sort: list[tuple[str, str]] = []
    for field, direction in _sort_pairs(query):
        if field not in SORT_FIELDS:
            raise BadRequest(
                f"cannot sort by {field!r}; use one of {', '.join(SORT_FIELDS)}", code="invalid_query"
            )
        sort.append((SORT_FIELDS[field], _direction(direction, field)))
    ended = _boolean(query["ended"], "ended") if "ended" in query else None
    external_id = query.get("externalId")
    return RoomQuery(
        offset=skip,
        limit=limit,
        sort=tuple(sort) or (("created_at", "desc"),),
        ended=ended,
        external_id=external_id,
    )

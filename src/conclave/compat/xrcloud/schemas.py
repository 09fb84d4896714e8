"""XRCLOUD shapes: Project, Scene, Room (with its four URLs), room logs, request bodies, user ids."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from conclave.events.models import RoomEvent
from conclave.rooms.schemas import HttpUrl
from conclave.scenes.models import Scene
from conclave.tenancy.models import Project

MAX_TAKE = 100
DEFAULT_TAKE = 10
LOG_TYPES = ["participant.joined", "participant.left"]
# participant event → (room log "action", webhook "action"); the reference documents "hubs join"
# for logs and "enter" for the webhook; the leave counterparts follow the same pattern.
ACTIONS = {"participant.joined": ("hubs join", "enter"), "participant.left": ("hubs exit", "exit")}


def _js_iso(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


JsDate = Annotated[datetime, PlainSerializer(_js_iso, return_type=str)]


def reticulum_id(project_id: str, account_id: str) -> str:
    """XRCLOUD's numeric user id for one of the developer's users, stable per (project, account).

    Derived rather than stored: the same account always maps to the same id, so logs and
    webhooks can name a user by it without a table.
    """
    digest = hashlib.sha256(f"{project_id}:{account_id}".encode()).digest()
    return str(int.from_bytes(digest[:8], "big") >> 1)


class XrProject(BaseModel):
    id: str
    name: str
    webhookUrl: str | None
    createdAt: JsDate
    updatedAt: JsDate
    faviconUrl: str | None
    logoUrl: str | None


def project_view(project: Project, favicon_url: str | None, logo_url: str | None) -> XrProject:
    return XrProject(
        id=project.id,
        name=project.name,
        webhookUrl=project.webhook_url,
        createdAt=project.created_at,
        updatedAt=project.updated_at,
        faviconUrl=favicon_url,
        logoUrl=logo_url,
    )


class XrScene(BaseModel):
    id: str
    name: str
    createdAt: JsDate
    updatedAt: JsDate
    thumbnailUrl: str | None
    sceneModificationUrl: str


def scene_view(scene: Scene, modification_url: str) -> XrScene:
    return XrScene(
        id=scene.id,
        name=scene.name,
        createdAt=scene.created_at,
        updatedAt=scene.updated_at,
        thumbnailUrl=scene.thumbnail_url,
        sceneModificationUrl=modification_url,
    )


class XrScenePage(BaseModel):
    items: list[XrScene]
    total: int
    skip: int
    take: int


class CreationUrl(BaseModel):
    sceneCreationUrl: str


class UrlPair(BaseModel):
    host: str
    guest: str


class RoomUrls(BaseModel):
    public: UrlPair
    private: UrlPair


class XrRoom(BaseModel):
    id: str
    name: str | None
    size: int
    tags: list[str]
    sceneId: str | None
    createdAt: JsDate
    updatedAt: JsDate
    returnUrl: str | None
    roomUrl: RoomUrls
    thumbnailUrl: str | None


class XrRoomPage(BaseModel):
    items: list[XrRoom]
    total: int
    skip: int
    take: int


class XrBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class CreateRoomRequest(XrBody):
    projectId: str = Field(min_length=1, max_length=36)
    sceneId: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    returnUrl: HttpUrl
    size: int | None = Field(default=None, ge=1, le=100000)


class UpdateRoomRequest(XrBody):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    size: int | None = Field(default=None, ge=1, le=100000)
    returnUrl: HttpUrl | None = None


class RoomLog(BaseModel):
    code: str
    roomId: str
    sessionId: str | None
    reticulumId: str | None
    logTime: JsDate
    action: str
    ip: str | None
    userAgent: str | None
    device: str
    id: int


def log_view(project_id: str, event: RoomEvent, number: int) -> RoomLog:
    """A participant event as an XRCLOUD room log line; ``id`` numbers the room's log from 1."""
    data: dict[str, Any] = event.data
    user = data.get("external_id")
    return RoomLog(
        code="room-join",
        roomId=event.room_id or "",
        sessionId=event.session_id,
        reticulumId=reticulum_id(project_id, user) if user else data.get("participant_id"),
        logTime=event.created_at,
        action=ACTIONS.get(event.type, (event.type, ""))[0],
        ip=data.get("ip"),
        userAgent=data.get("user_agent"),
        device=data.get("device") or "unknown",
        id=number,
    )

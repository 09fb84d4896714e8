"""XRCLOUD routes onto TenancyService, SceneService, RoomService, AccessService and the event log.

One organization key reaches every project of the organization; ids of other organizations are
not found. Rooms get four URLs: the ``public`` pair is fixed (long-lived tokens minted once and
kept in the room's metadata under ``xrcloud``), the ``private`` pair is minted afresh on every read.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import ValidationError

from conclave.access.schemas import TokenRequest
from conclave.access.service import AccessService
from conclave.compat.xrcloud import assets
from conclave.compat.xrcloud.assets import ProjectAssets
from conclave.compat.xrcloud.auth import XrcloudOrganization
from conclave.compat.xrcloud.errors import MethodNotAllowed, XrcloudRoute
from conclave.compat.xrcloud.forms import read_form
from conclave.compat.xrcloud.schemas import (
    DEFAULT_TAKE,
    LOG_TYPES,
    MAX_TAKE,
    CreateRoomRequest,
    CreationUrl,
    RoomLog,
    UpdateRoomRequest,
    XrProject,
    XrRoom,
    XrRoomPage,
    XrScene,
    XrScenePage,
    log_view,
    project_view,
    reticulum_id,
    scene_view,
)
from conclave.events.service import EventLogService
from conclave.kit.errors import BadRequest, NotFound
from conclave.kit.ids import new_id
from conclave.kit.pagination import PageParams
from conclave.kit.time import utcnow
from conclave.rooms.models import Room
from conclave.rooms.repository import RoomQuery
from conclave.rooms.schemas import RoomCreate, RoomUpdate
from conclave.rooms.service import RoomService
from conclave.scenes.service import SceneService
from conclave.tenancy.auth import Session, Tenancy
from conclave.tenancy.models import Project
from conclave.tenancy.schemas import ProjectCreate

PUBLIC_LINK_SECONDS = 10 * 365 * 24 * 3600
MAX_LOG_LINES = 1000
HOST_ROLE, GUEST_ROLE = "moderator", "attendee"


def _state(name: str) -> Any:
    def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    return get


async def project_assets(request: Request) -> ProjectAssets:
    settings = request.app.state.settings
    return ProjectAssets(settings.data_dir, settings.resolved_public_url)


Rooms = Annotated[RoomService, Depends(_state("rooms"))]
Scenes = Annotated[SceneService, Depends(_state("scenes"))]
Access = Annotated[AccessService, Depends(_state("access"))]
Events = Annotated[EventLogService, Depends(_state("events"))]
Assets = Annotated[ProjectAssets, Depends(project_assets)]

router = APIRouter(prefix="/api", tags=["XRCLOUD"], route_class=XrcloudRoute)
storage_router = APIRouter(tags=["XRCLOUD"], route_class=XrcloudRoute)


def _window(skip: int | None, take: int | None) -> tuple[int, int]:
    if skip is not None and skip < 0:
        raise BadRequest("skip must be 0 or more", code="invalid_query")
    if take is not None and take < 0:
        raise BadRequest("take must be 0 or more", code="invalid_query")
    return skip or 0, min(take if take is not None else DEFAULT_TAKE, MAX_TAKE)


# -- projects -----------------------------------------------------------------------------------


def _project(project: Project, files: ProjectAssets) -> XrProject:
    return project_view(project, files.url("favicon", project.id), files.url("logo", project.id))


@router.get("/projects", response_model=list[XrProject])
async def get_projects_by_label(
    organization: XrcloudOrganization,
    session: Session,
    tenancy: Tenancy,
    files: Assets,
    label: str | None = None,
) -> list[XrProject]:
    """The organization's projects, all of them or only those with `label`."""
    projects = await tenancy.projects_by_label(session, organization.id, label)
    return [_project(project, files) for project in projects]


@router.post("/projects", response_model=XrProject, status_code=201)
async def create_project(
    request: Request, organization: XrcloudOrganization, session: Session, tenancy: Tenancy, files: Assets
) -> XrProject:
    """Create a project from a multipart form: `name`, `label`, `favicon` and `logo` files (all optional)."""
    form = await read_form(request)
    images = [assets.check(kind, form.files[kind].content) for kind in assets.KINDS if kind in form.files]
    name = form.fields.get("name") or form.fields.get("label") or f"project-{new_id()[-8:]}"
    label = form.fields.get("label")
    try:
        data = ProjectCreate.model_validate(
            {"name": name, "labels": [label] if label else [], "webhook_format": "xrcloud"}
        )
    except ValidationError as exc:
        raise BadRequest(f"name: {exc.errors()[0]['msg']}", code="invalid_project") from None
    project, _ = await tenancy.create_project(session, organization.id, data)
    for image in images:
        await files.save(project.id, image)
    return _project(project, files)


@router.get("/projects/{projectId}/getIdFromUserId/{accountId}")
async def get_id_from_user_id(
    projectId: str, accountId: str, organization: XrcloudOrganization, session: Session, tenancy: Tenancy
) -> dict[str, str]:
    """The reticulumId (XRCLOUD user id) for one of your users; the same account always gets the same id."""
    project = await tenancy.get_project(session, projectId, organization_id=organization.id)
    return {"reticulumId": reticulum_id(project.id, accountId)}


@router.get("/projects/{projectId}", response_model=XrProject)
async def get_project(
    projectId: str, organization: XrcloudOrganization, session: Session, tenancy: Tenancy, files: Assets
) -> XrProject:
    return _project(await tenancy.get_project(session, projectId, organization_id=organization.id), files)


@storage_router.get("/storage/{kind}/{shard}/{name}", include_in_schema=False)
async def stored_file(kind: str, shard: str, name: str, files: Assets) -> FileResponse:
    """Public favicon and logo files (as XRCLOUD serves them), never sniffed as another type."""
    path, media_type = files.file(kind, shard, name)
    return FileResponse(
        path,
        media_type=media_type,
        headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'"},
    )


# -- scenes -------------------------------------------------------------------------------------


@router.get("/scenes", response_model=XrScenePage)
async def get_scenes(
    organization: XrcloudOrganization,
    session: Session,
    tenancy: Tenancy,
    scenes: Scenes,
    projectId: Annotated[str, Query()],
    name: str | None = None,
    creator: str | None = None,
    take: int | None = None,
    skip: int | None = None,
) -> XrScenePage:
    """A project's scenes, newest first; `name` searches, `creator` filters, `take`/`skip` page."""
    offset, limit = _window(skip, take)
    project = await tenancy.get_project(session, projectId, organization_id=organization.id)
    params = PageParams(limit=limit, offset=offset, order="desc", after=None)
    rows, total = await scenes.list_scenes(session, project.id, params, name=name, creator=creator)
    items = [scene_view(row, await scenes.modification_link(session, row)) for row in rows]
    return XrScenePage(items=items, total=total, skip=offset, take=limit)


@router.get("/scenes/get-creation-url", response_model=CreationUrl)
async def get_scene_creation_url(
    organization: XrcloudOrganization,
    session: Session,
    tenancy: Tenancy,
    scenes: Scenes,
    projectId: Annotated[str, Query()],
    creator: str | None = None,
    callback: str | None = None,
) -> CreationUrl:
    """A short-lived link to Conclave's scene editor; publishing there POSTs `{"sceneId"}` to `callback`."""
    if callback is not None and not (callback.startswith(("http://", "https://")) and len(callback) <= 2048):
        raise BadRequest("callback must be an http(s) URL", code="invalid_callback")
    project = await tenancy.get_project(session, projectId, organization_id=organization.id)
    url = await scenes.creation_link(session, project.id, creator=creator or "Admin", callback=callback)
    return CreationUrl(sceneCreationUrl=url)


@router.get("/scenes/{sceneId}", response_model=XrScene)
async def get_scene(
    sceneId: str, organization: XrcloudOrganization, session: Session, scenes: Scenes
) -> XrScene:
    scene = await scenes.get_scene_in_organization(session, organization.id, sceneId)
    return scene_view(scene, await scenes.modification_link(session, scene))


@router.delete("/scenes/{sceneId}")
async def remove_scene(
    sceneId: str, organization: XrcloudOrganization, session: Session, scenes: Scenes
) -> Response:
    """Remove a scene; refused (409) while rooms use it."""
    scene = await scenes.get_scene_in_organization(session, organization.id, sceneId)
    await scenes.delete_scene(session, scene.project_id, scene.id)
    return Response(status_code=200)


# -- rooms --------------------------------------------------------------------------------------


class RoomViewer:
    """Builds XRCLOUD room objects; minting tokens is the only write a read makes."""

    def __init__(self, session: Session, rooms: Rooms, scenes: Scenes, access: Access) -> None:
        self.session, self.rooms, self.scenes, self.access = session, rooms, scenes, access

    async def public_tokens(self, project: Project, room: Room) -> tuple[Room, dict[str, str]]:
        stored = room.meta.get("xrcloud", {}) if isinstance(room.meta, dict) else {}
        if isinstance(stored, dict) and {"host", "guest"} <= set(stored):
            return room, {"host": str(stored["host"]), "guest": str(stored["guest"])}
        exp = int(utcnow().timestamp()) + PUBLIC_LINK_SECONDS
        tokens = {
            "host": (
                await self.access.issue_token(
                    self.session, project, room, TokenRequest(role=HOST_ROLE, exp=exp)
                )
            ).token,
            "guest": (
                await self.access.issue_token(
                    self.session, project, room, TokenRequest(role=GUEST_ROLE, exp=exp)
                )
            ).token,
        }
        update = RoomUpdate.model_validate({"metadata": {**room.meta, "xrcloud": tokens}})
        return await self.rooms.update_room(self.session, project, room.id, update), tokens

    async def view(
        self,
        project: Project,
        room: Room,
        *,
        user_id: str | None = None,
        avatar_url: str | None = None,
        link_payload: str | None = None,
    ) -> XrRoom:
        room, public = await self.public_tokens(project, room)
        base = self.access.room_link(room)
        extra = {"hubsParam": link_payload} if link_payload else {}
        try:
            claims = TokenRequest.model_validate({"ud": user_id, "avatar": avatar_url})
        except ValidationError as exc:
            raise BadRequest(
                f"{exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}", code="invalid_query"
            ) from None
        private = {}
        for kind, role in (("host", HOST_ROLE), ("guest", GUEST_ROLE)):
            data = claims.model_copy(update={"role": role})
            private[kind] = (await self.access.issue_token(self.session, project, room, data)).token

        def link(token: str) -> str:
            return f"{base}?{urlencode({'token': token, **extra})}"

        thumbnail = None
        if room.scene_id:
            try:
                thumbnail = (
                    await self.scenes.get_scene(self.session, project.id, room.scene_id)
                ).thumbnail_url
            except NotFound:
                thumbnail = None
        return XrRoom.model_validate(
            {
                "id": room.id,
                "name": room.name,
                "size": room.max_participants,
                "tags": room.tags,
                "sceneId": room.scene_id,
                "createdAt": room.created_at,
                "updatedAt": room.updated_at,
                "returnUrl": room.return_url,
                "roomUrl": {
                    "public": {"host": link(public["host"]), "guest": link(public["guest"])},
                    "private": {"host": link(private["host"]), "guest": link(private["guest"])},
                },
                "thumbnailUrl": thumbnail,
            }
        )


Viewer = Annotated[RoomViewer, Depends(RoomViewer)]


async def _room_and_project(
    session: Session, rooms: RoomService, tenancy: Tenancy, organization_id: str, room_id: str
) -> tuple[Room, Project]:
    room = await rooms.get_room_in_organization(session, organization_id, room_id)
    return room, await tenancy.get_project(session, room.project_id)


@router.post("/rooms", response_model=XrRoom, status_code=201)
async def create_room(
    body: CreateRoomRequest,
    organization: XrcloudOrganization,
    session: Session,
    tenancy: Tenancy,
    rooms: Rooms,
    viewer: Viewer,
) -> XrRoom:
    """Create a room from a scene of the project; `size` is the maximum number of people inside."""
    project = await tenancy.get_project(session, body.projectId, organization_id=organization.id)
    values: dict[str, Any] = {"name": body.name, "scene_id": body.sceneId, "return_url": body.returnUrl}
    if body.size is not None:
        values["max_participants"] = body.size
    room = await rooms.create_room(session, project, RoomCreate.model_validate(values))
    return await viewer.view(project, room)


@router.get("/rooms", response_model=XrRoomPage)
async def get_rooms(
    organization: XrcloudOrganization,
    session: Session,
    tenancy: Tenancy,
    rooms: Rooms,
    scenes: Scenes,
    viewer: Viewer,
    projectId: str | None = None,
    sceneId: str | None = None,
    name: str | None = None,
    userId: str | None = None,
    avatarUrl: str | None = None,
    linkPayload: str | None = None,
    take: int | None = None,
    skip: int | None = None,
) -> XrRoomPage:
    """Rooms of a project or of a scene (one of `projectId`/`sceneId` is required), newest first."""
    offset, limit = _window(skip, take)
    if projectId is None and sceneId is None:
        raise BadRequest("projectId or sceneId is required", code="invalid_query")
    if sceneId is not None:
        scene = await scenes.get_scene_in_organization(session, organization.id, sceneId)
        if projectId is not None and projectId != scene.project_id:
            raise NotFound(f"scene {sceneId!r} not found in project {projectId!r}", code="scene_not_found")
        projectId = scene.project_id
    assert projectId is not None
    project = await tenancy.get_project(session, projectId, organization_id=organization.id)
    query = RoomQuery(offset=offset, limit=limit, scene_id=sceneId, name=name)
    rows, total = await rooms.search_rooms(session, project.id, query)
    items = [
        await viewer.view(project, row, user_id=userId, avatar_url=avatarUrl, link_payload=linkPayload)
        for row in rows
    ]
    return XrRoomPage(items=items, total=total, skip=offset, take=limit)


@router.get("/rooms/{roomId}", response_model=XrRoom)
async def get_room(
    roomId: str,
    organization: XrcloudOrganization,
    session: Session,
    tenancy: Tenancy,
    rooms: Rooms,
    viewer: Viewer,
    userId: str | None = None,
    avatarUrl: str | None = None,
    linkPayload: str | None = None,
) -> XrRoom:
    """A room; its private URLs are new on every read and carry `userId`/`avatarUrl` into the token."""
    room, project = await _room_and_project(session, rooms, tenancy, organization.id, roomId)
    return await viewer.view(project, room, user_id=userId, avatar_url=avatarUrl, link_payload=linkPayload)


@router.patch("/rooms/{roomId}", response_model=XrRoom)
async def update_room(
    roomId: str,
    body: UpdateRoomRequest,
    organization: XrcloudOrganization,
    session: Session,
    tenancy: Tenancy,
    rooms: Rooms,
    viewer: Viewer,
) -> XrRoom:
    room, project = await _room_and_project(session, rooms, tenancy, organization.id, roomId)
    names = {"name": "name", "size": "max_participants", "returnUrl": "return_url"}
    changes = {names[key]: value for key, value in body.model_dump(exclude_unset=True).items()}
    if None in changes.values():
        raise BadRequest("fields cannot be null", code="invalid_room")
    room = await rooms.update_room(session, project, room.id, RoomUpdate.model_validate(changes))
    return await viewer.view(project, room)


@router.delete("/rooms/{roomId}")
async def remove_room(
    roomId: str, organization: XrcloudOrganization, session: Session, tenancy: Tenancy, rooms: Rooms
) -> Response:
    room, project = await _room_and_project(session, rooms, tenancy, organization.id, roomId)
    await rooms.delete_room(session, project, room.id)
    return Response(status_code=200)


@router.get("/rooms/{roomId}/logs", response_model=list[RoomLog])
async def get_room_logs(
    roomId: str, organization: XrcloudOrganization, session: Session, rooms: Rooms, events: Events
) -> list[RoomLog]:
    """Enter and exit lines from the room's event log (participant joined/left), oldest first."""
    room = await rooms.get_room_in_organization(session, organization.id, roomId)
    params = PageParams(limit=MAX_LOG_LINES, offset=0, order="asc", after=None)
    rows, _ = await events.list_room_events(
        session, room.project_id, room.id, params, types=LOG_TYPES, since=None, until=None
    )
    return [log_view(room.project_id, row, number) for number, row in enumerate(rows, start=1)]


_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


async def unknown(request: Request) -> None:
    """Anything else under XRCLOUD's paths answers in its error shape too."""
    raise NotFound(f"Cannot {request.method} {request.url.path}", code="not_found")


async def wrong_method(request: Request) -> None:
    raise MethodNotAllowed(f"Cannot {request.method} {request.url.path}")


for _family in ("projects", "scenes", "rooms"):
    router.add_api_route(f"/{_family}/{{path:path}}", unknown, methods=_METHODS, include_in_schema=False)
    router.add_api_route(
        f"/{_family}", wrong_method, methods=["PUT", "PATCH", "DELETE"], include_in_schema=False
    )

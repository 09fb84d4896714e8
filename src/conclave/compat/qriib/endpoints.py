"""Qriib devkit v4 routes: parse Qriib's shapes, check its signature, call one service, answer.

Paths are the collection's ``/api/v4/…``; where a live request of the collection (or a
description) still says ``/api/v3/…`` the same route answers there too. Every route reads the
body itself, after the signature check, so a malformed body with a bad signature is a 401 and
a malformed body with a good one is a 400 (never a 500).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.access.schemas import TokenRequest
from conclave.access.service import AccessService
from conclave.compat.qriib import errors
from conclave.compat.qriib.analytics import AnalyticsBuilder, RoomFacts
from conclave.compat.qriib.auth import Session, SignedOrganization, SignedProject, signed_project
from conclave.compat.qriib.errors import FieldErrors, InvalidStatus
from conclave.compat.qriib.recordings import LINK_MESSAGE, download_link, file_response, recording_item
from conclave.compat.qriib.schemas import (
    NAMESPACE,
    NATIVE_NAMES,
    PROJECT_STATUSES,
    ROLE_OF_INVITATION,
    InvitationLinkCreate,
    JoinRoom,
    PastRoomsQuery,
    ProjectCreateIn,
    ProjectStatusIn,
    ProjectUpdateIn,
    QuickRoomCreate,
    RoomRef,
    ScheduledRoomCreate,
    StartScheduledRoom,
    json_object,
    native,
    native_project_fields,
    organization_projects,
    parse,
    project_full,
    project_summary,
    room_created,
    room_info,
    room_status,
)
from conclave.events.models import RoomEvent
from conclave.events.service import EventLogService
from conclave.kit.errors import NotFound
from conclave.kit.pagination import PageParams
from conclave.kit.routing import from_state, surface_route
from conclave.kit.time import isoformat
from conclave.recordings.models import Recording
from conclave.recordings.service import RecordingService
from conclave.rooms.models import Room
from conclave.rooms.schemas import RoomCreate
from conclave.rooms.service import RoomService
from conclave.sessions.service import SessionService
from conclave.tenancy.models import Organization, Project
from conclave.tenancy.schemas import ProjectCreate, ProjectFields
from conclave.tenancy.service import SigningKey, TenancyService

router = APIRouter(tags=["Qriib devkit v4"], route_class=surface_route(errors.render))

F = TypeVar("F", bound=Callable[..., Any])


def route(
    method: str,
    path: str,
    *,
    v3: bool = False,
    status_code: int = 200,
    response_class: type[Response] | None = None,
) -> Callable[[F], F]:
    """Register ``/api/v4{path}``, and ``/api/v3{path}`` (hidden from OpenAPI) when the collection uses it."""
    extra: dict[str, Any] = {"response_class": response_class} if response_class is not None else {}

    def register(endpoint: F) -> F:
        router.add_api_route(f"/api/v4{path}", endpoint, methods=[method], status_code=status_code, **extra)
        if v3:
            router.add_api_route(
                f"/api/v3{path}",
                endpoint,
                methods=[method],
                status_code=status_code,
                include_in_schema=False,
                **extra,
            )
        return endpoint

    return register


_rooms = from_state("rooms")


_access = from_state("access")


_tenancy = from_state("tenancy")


_events = from_state("events")


_recordings = from_state("recordings")


_sessions = from_state("sessions")


Rooms = Annotated[RoomService, Depends(_rooms)]
Recordings = Annotated[RecordingService, Depends(_recordings)]
Sessions = Annotated[SessionService, Depends(_sessions)]
Access = Annotated[AccessService, Depends(_access)]
Tenancy = Annotated[TenancyService, Depends(_tenancy)]
Events = Annotated[EventLogService, Depends(_events)]
OptionalQuery = Annotated[str | None, Query()]


async def _body(request: Request) -> dict[str, Any]:
    return json_object(await request.body())


def _required(name: str, value: str | None) -> str:
    if value is None or not value.strip():
        raise FieldErrors({name: f"The field '{name}' is required."})
    return value.strip()


def _own_project(project: Project, project_id: str) -> None:
    """A body's ``project_id`` must name the signing project; any other id is not found."""
    if project_id != project.id:
        raise NotFound(f"project {project_id!r} not found", code="project_not_found")


def _own_organization(organization: Organization, organization_id: str) -> None:
    if organization_id != organization.id:
        raise NotFound(f"organization {organization_id!r} not found", code="organization_not_found")


# -- rooms -----------------------------------------------------------------------------------------


async def _create_quick_room(
    request: Request, project: Project, session: AsyncSession, rooms: RoomService, kind: str
) -> dict[str, Any]:
    data = parse(QuickRoomCreate, await _body(request))
    _own_project(project, data.project_id)
    room = await _create_room(session, project, rooms, data, kind)
    creator = TokenRequest(ud=data.moderator_id, u=data.name, role="moderator")
    _, issued = await rooms.issue_join_token(session, project, room.id, creator)
    return {"final_link": issued.link, **room_created(room), "status": True}


async def _create_room(
    session: AsyncSession,
    project: Project,
    rooms: RoomService,
    data: QuickRoomCreate | ScheduledRoomCreate,
    kind: str,
) -> Room:
    """Qriib's ``name`` (the creator) and ``moderator_id`` have no column: they go under meta["qriib"]."""
    metadata = data.metadata.model_dump(exclude_unset=True)
    values: dict[str, Any] = {
        "external_id": data.client_room_id,
        "name": data.metadata.room_title,
        "kind": kind,
        "max_participants": data.max_participants,
        "empty_timeout": data.empty_timeout,
        "metadata": {**metadata, NAMESPACE: {"name": data.name, "moderator_id": data.moderator_id}},
    }
    if isinstance(data, ScheduledRoomCreate):
        values["scheduled_start_at"] = data.start_at
    room_data = native(RoomCreate, values, {"external_id": "client_room_id", "name": "metadata.room_title"})
    return await rooms.create_room(session, project, room_data)


@route("POST", "/rooms/create_quick_audio_room", v3=True, status_code=201)
async def create_quick_audio_room(
    request: Request, project: SignedProject, session: Session, rooms: Rooms
) -> dict[str, Any]:
    """Create an audio room that opens now; ``final_link`` lets its moderator in."""
    return await _create_quick_room(request, project, session, rooms, "audio")


@route("POST", "/rooms/create_quick_video_room", status_code=201)
async def create_quick_video_room(
    request: Request, project: SignedProject, session: Session, rooms: Rooms
) -> dict[str, Any]:
    """Create a video room that opens now; ``final_link`` lets its moderator in."""
    return await _create_quick_room(request, project, session, rooms, "video")


async def _create_scheduled_room(
    request: Request, project: Project, session: AsyncSession, rooms: RoomService, kind: str
) -> dict[str, Any]:
    data = parse(ScheduledRoomCreate, await _body(request))
    _own_project(project, data.project_id)
    room = await _create_room(session, project, rooms, data, kind)
    return {**room_created(room), "scheduled_time": isoformat(room.scheduled_start_at), "status": True}


@route("POST", "/rooms/create_schedule_audio_room")
async def create_schedule_audio_room(
    request: Request, project: SignedProject, session: Session, rooms: Rooms
) -> dict[str, Any]:
    """Create an audio room that opens at ``start_at`` (UTC); a time already past opens it now."""
    return await _create_scheduled_room(request, project, session, rooms, "audio")


@route("POST", "/rooms/create_schedule_video_room")
async def create_schedule_video_room(
    request: Request, project: SignedProject, session: Session, rooms: Rooms
) -> dict[str, Any]:
    """Create a video room that opens at ``start_at`` (UTC); a time already past opens it now."""
    return await _create_scheduled_room(request, project, session, rooms, "video")


@route("POST", "/rooms/start_schedule_room")
async def start_schedule_room(
    request: Request, project: SignedProject, session: Session, rooms: Rooms
) -> dict[str, Any]:
    """Open a scheduled room now. ``room_id`` may be the room id or, as described, the client room id."""
    data = parse(StartScheduledRoom, await _body(request))
    ref = data.room_id or data.client_room_id or ""
    try:
        room = await rooms.open_scheduled_room(session, project, ref)
    except NotFound:
        room = await rooms.get_room_by_external_id(session, project.id, ref)
        room = await rooms.open_scheduled_room(session, project, room.id)
    return {"room_id": room.id, "started": True, "status": room_status(room)}


@route("POST", "/rooms/fetch_past_rooms", v3=True)
async def fetch_past_rooms(
    request: Request, project: SignedProject, session: Session, rooms: Rooms
) -> dict[str, Any]:
    """The project's rooms, newest first by default: ``from`` (offset), ``limit`` (≤ 100), ``order_by``."""
    data = parse(PastRoomsQuery, await _body(request))
    _own_project(project, data.project_id)
    params = PageParams(limit=data.limit, offset=data.offset, order=data.order, after=None)
    found, total = await rooms.list_rooms(session, project.id, params, [])
    return {"rooms": [room_info(room) for room in found], "total": total}


@route("GET", "/rooms/get_active_room_info", v3=True)
async def get_active_room_info(
    project: SignedProject, session: Session, rooms: Rooms, room_id: OptionalQuery = None
) -> dict[str, Any]:
    """One room with its status (``active`` until it ends, ``scheduled`` before it opens)."""
    room = await rooms.get_room(session, project.id, _required("room_id", room_id))
    return {"room": room_info(room)}


@route("GET", "/rooms/room_status")
async def get_room_status(
    project: SignedProject, session: Session, rooms: Rooms, room_id: OptionalQuery = None
) -> dict[str, Any]:
    """``active``, ``scheduled`` or ``ended``."""
    room = await rooms.get_room(session, project.id, _required("room_id", room_id))
    return {"status": room_status(room), "room_id": room.id}


@route("GET", "/rooms/get_active_rooms_info")
async def get_active_rooms_info(project: SignedProject, session: Session, rooms: Rooms) -> dict[str, Any]:
    """Every room of the project that is open now, oldest first."""
    return {"rooms": [room_info(room) for room in await rooms.list_open_rooms(session, project.id)]}


@route("POST", "/rooms/join_room")
async def join_room(
    request: Request, project: SignedProject, session: Session, rooms: Rooms
) -> dict[str, Any]:
    """A link to Conclave's meeting page for one user. ``user_metadata.role``: host and moderator
    join as ``moderator``, presenter as ``speaker``, attendee as ``attendee``; without a role,
    ``is_admin: true`` means host. An ended room refuses."""
    data = parse(JoinRoom, await _body(request))
    user = data.user_info
    token = TokenRequest(ud=user.user_id, u=user.name, role=user.conclave_role)
    room, issued = await rooms.issue_join_token(session, project, data.room_id, token)
    return {
        "joined": True,
        "room_id": room.id,
        "role": user.conclave_role,
        "final_link": issued.link,
        "token": issued.token,
    }


@route("POST", "/rooms/create_invitation_link")
async def create_invitation_link(
    request: Request, project: SignedProject, session: Session, rooms: Rooms
) -> dict[str, Any]:
    """A shareable link to the meeting page: ``admin`` joins as ``moderator``, ``viewer`` as ``viewer``."""
    data = parse(InvitationLinkCreate, await _body(request))
    role = ROLE_OF_INVITATION[data.role]
    room, issued = await rooms.issue_join_token(session, project, data.room_id, TokenRequest(role=role))
    return {"invitation_link": issued.link, "room_id": room.id, "role": role}


@route("POST", "/rooms/end_room")
async def end_room(
    request: Request, project: SignedProject, session: Session, rooms: Rooms
) -> dict[str, Any]:
    """Close a room for good; ending an ended room succeeds again."""
    data = parse(RoomRef, await _body(request))
    room = await rooms.end_room(session, project, data.room_id)
    return {"ended": True, "room_id": room.id}


# -- room events -----------------------------------------------------------------------------------

# Qriib's analytics name a join and a leave ``joined`` and ``left``; other events keep Conclave's names.
_EVENT_NAMES = {"participant.joined": "joined", "participant.left": "left"}
_EVENT_PAGE = 100


async def _room_log(
    session: AsyncSession, events: EventLogService, project_id: str, room_ref: str
) -> list[RoomEvent]:
    """Every event of the room, oldest first (page by page)."""
    rows: list[RoomEvent] = []
    while True:
        params = PageParams(limit=_EVENT_PAGE, offset=len(rows), order="asc", after=None)
        page, total = await events.list_room_events(
            session, project_id, room_ref, params, types=[], since=None, until=None
        )
        rows.extend(page)
        if not page or len(rows) >= total:
            return rows


@route("GET", "/webhook/get_room_events/{room_id}")
async def get_room_events(
    room_id: str, project: SignedProject, session: Session, events: Events
) -> dict[str, Any]:
    """The room's event log, oldest first, from Conclave's event log (it outlives a deleted room)."""
    rows = await _room_log(session, events, project.id, room_id)
    return {
        "events": [
            {
                "event": _EVENT_NAMES.get(row.type, row.type),
                "user_id": row.data.get("external_id") or row.data.get("participant_id")
                if row.type.startswith("participant.")
                else None,
                "event_id": row.id,
                "type": row.type,
                "room_id": row.room_id,
                "session_id": row.session_id,
                "timestamp": isoformat(row.created_at),
                "data": row.data,
            }
            for row in rows
        ]
    }


# -- recordings ------------------------------------------------------------------------------------

_RECORDING_PAGE = 100


async def _all_recordings(
    session: AsyncSession, recordings: RecordingService, project_id: str, room_id: str | None
) -> list[Recording]:
    """Every recording of the project (or of one room), newest first; Qriib does not page."""
    rows: list[Recording] = []
    while True:
        params = PageParams(limit=_RECORDING_PAGE, offset=len(rows), order="desc", after=None)
        page, total = await recordings.list_recordings(
            session,
            project_id,
            params,
            room_ref=room_id,
            session_id=None,
            status=None,
            archived=None,
            created_from=None,
            created_to=None,
        )
        rows.extend(page)
        if not page or len(rows) >= total:
            return rows


async def _rooms_of(
    session: AsyncSession, rooms: RoomService, project_id: str, rows: list[Recording]
) -> dict[str, Room | None]:
    """The recordings' rooms; a recording outlives its room, whose name is then null."""
    found: dict[str, Room | None] = {}
    for room_id in dict.fromkeys(row.room_id for row in rows):
        try:
            found[room_id] = await rooms.get_room(session, project_id, room_id)
        except NotFound:
            found[room_id] = None
    return found


@route("GET", "/recordings/get_record")
async def get_record(
    project: SignedProject,
    session: Session,
    rooms: Rooms,
    recordings: Recordings,
    room_id: OptionalQuery = None,
) -> dict[str, Any]:
    """The recordings of one room, newest first, as ``get_records`` items (``url`` signed, or null
    until the recording is ready)."""
    room = await rooms.get_room(session, project.id, _required("room_id", room_id))
    rows = await _all_recordings(session, recordings, project.id, room.id)
    items = [recording_item(recordings, row, project, room) for row in rows]
    return {"count": len(items), "items": items, "room_id": room.id}


@route("GET", "/recordings/get_records")
async def get_records(
    project: SignedProject,
    session: Session,
    rooms: Rooms,
    recordings: Recordings,
    project_id: OptionalQuery = None,
) -> dict[str, Any]:
    """Every recording of the signing project, newest first; another project id is not found."""
    _own_project(project, _required("project_id", project_id))
    rows = await _all_recordings(session, recordings, project.id, None)
    room_of = await _rooms_of(session, rooms, project.id, rows)
    items = [recording_item(recordings, row, project, room_of[row.room_id]) for row in rows]
    return {"count": len(items), "items": items}


@route("GET", "/recordings/get_recording_link/{recording_id}")
async def get_recording_link(
    recording_id: str,
    project: SignedProject,
    session: Session,
    recordings: Recordings,
    download: OptionalQuery = None,
) -> dict[str, Any]:
    """A download URL that works without credentials until it expires (``download=true`` is
    accepted and changes nothing). A recording that is not ready yet is a 409."""
    recording = await recordings.get(session, project.id, recording_id)
    url, filename = download_link(recordings, recording)
    return {"download_url": url, "filename": filename, "message": LINK_MESSAGE, "recording_id": recording.id}


@route("GET", "/recordings/download_recording/{recording_id}", response_class=Response)
async def download_recording(
    recording_id: str,
    request: Request,
    session: Session,
    recordings: Recordings,
    tenancy: Tenancy,
    expires: Annotated[int | None, Query()] = None,
    signature: OptionalQuery = None,
) -> Response:
    """The recording's main file (MP4, M4A, or a ZIP of the tracks), named ``<id>.<ext>``. With
    the ``expires``/``signature`` of a ``get_recording_link`` URL no credentials are needed;
    without them the request is signed like any other (``key`` + ``hash-signature``)."""
    if expires is not None and signature is not None:
        found = await recordings.download_signed(session, recording_id, None, expires, signature)
    else:
        project = await signed_project(request, session, tenancy)
        found = await recordings.download(session, project.id, recording_id, None)
    return await file_response(recordings, found)


# -- analytics -------------------------------------------------------------------------------------


@route("GET", "/analytics/get_analytics", v3=True)
async def get_analytics(
    project: SignedProject,
    session: Session,
    rooms: Rooms,
    events: Events,
    sessions: Sessions,
    room_id: OptionalQuery = None,
) -> dict[str, Any]:
    """The room's analytics, computed from its event log (see ``compat.qriib.analytics`` for what
    each series comes from). A deleted room is still answered while its log remains."""
    ref = _required("room_id", room_id)
    log = await _room_log(session, events, project.id, ref)
    media_nodes: dict[str, str | None] = {}
    for row in log:
        if row.type == "recording.started" and row.session_id and row.session_id not in media_nodes:
            try:
                live = await sessions.get_session(session, project.id, row.session_id)
                media_nodes[row.session_id] = live.media_node
            except NotFound:
                media_nodes[row.session_id] = None
    builder = AnalyticsBuilder(media_nodes)
    for row in log:
        builder.add(row)
    return builder.body(await _room_facts(session, rooms, project.id, ref, log))


async def _room_facts(
    session: AsyncSession, rooms: RoomService, project_id: str, ref: str, log: list[RoomEvent]
) -> RoomFacts:
    try:
        room = await rooms.get_room(session, project_id, ref)
    except NotFound:
        # Deleted: what its log recorded (room.created carries the name).
        created = next((row for row in log if row.type == "room.created"), None)
        ended = next((row for row in reversed(log) if row.type == "room.ended"), None)
        name = created.data.get("name") if created is not None else None
        return RoomFacts(
            room_id=ref.lower(),
            title=name if isinstance(name, str) else None,
            created_at=created.created_at if created is not None else None,
            ended_at=ended.created_at if ended is not None else None,
        )
    return RoomFacts(room_id=room.id, title=room.name, created_at=room.created_at, ended_at=room.ended_at)


# -- projects --------------------------------------------------------------------------------------


@route("GET", "/projects/get_project", v3=True)
async def get_project(
    organization: SignedOrganization, session: Session, tenancy: Tenancy, project_id: OptionalQuery = None
) -> dict[str, Any]:
    """One project of the signing organization, with its keys. The body carries it under both
    ``project`` (the captured response) and ``message`` (what the collection's test script reads)."""
    project = await tenancy.get_project(
        session, _required("project_id", project_id), organization_id=organization.id
    )
    keys = await tenancy.newest_project_keys(session, [project.id])
    # Conclave keeps no account balance: the captured "balance" key is left out rather than invented.
    payload = organization_projects(organization, [project_full(project, keys.get(project.id))])
    return {"project": payload, "message": payload}


@route("GET", "/projects/get_projects", v3=True)
async def get_projects(
    organization: SignedOrganization,
    session: Session,
    tenancy: Tenancy,
    organization_id: OptionalQuery = None,
) -> dict[str, Any]:
    """Every project of the organization, whatever its status, oldest first; no paging."""
    _own_organization(organization, _required("organization_id", organization_id))
    projects = await tenancy.projects_by_label(session, organization.id, None)
    keys = await tenancy.newest_project_keys(session, [project.id for project in projects])
    return organization_projects(organization, [project_summary(p, keys.get(p.id)) for p in projects])


@route("POST", "/projects/create_project", status_code=201)
async def create_project(
    request: Request, organization: SignedOrganization, session: Session, tenancy: Tenancy
) -> dict[str, Any]:
    """Create a project with its limits, room features and lock settings, atomically: a refused
    request (invalid limits included) creates nothing."""
    data = parse(ProjectCreateIn, await _body(request))
    _own_organization(organization, data.organization_id)
    values = {"name": data.project_name, **native_project_fields(data, None)}
    project, issued = await tenancy.create_project(
        session, organization.id, native(ProjectCreate, values, NATIVE_NAMES)
    )
    message = "Project and limits created successfully" if data.limits else "Project created successfully"
    key = SigningKey(issued.credential.key_id, issued.secret)
    return {"message": message, "status": "success", "project": project_full(project, key)}


@route("PUT", "/projects/update_project/{project_id}", v3=True)
async def update_project(
    project_id: str, request: Request, organization: SignedOrganization, session: Session, tenancy: Tenancy
) -> dict[str, str]:
    """Replace the webhook URL and default lock settings (required) and, when sent, the other fields."""
    data = parse(ProjectUpdateIn, await _body(request))
    project = await tenancy.get_project(session, project_id, organization_id=organization.id)
    fields = native(ProjectFields, native_project_fields(data, project.extra_data), NATIVE_NAMES)
    await tenancy.update_project(session, project, fields, name=data.project_name)
    return {"message": "Project updated successfully"}


@route("PUT", "/projects/update_project_status")
async def update_project_status(
    request: Request,
    organization: SignedOrganization,
    session: Session,
    tenancy: Tenancy,
    project_id: OptionalQuery = None,
) -> dict[str, str]:
    """``active`` or ``inactive`` (Conclave also knows ``suspended``); inactive projects' keys are refused."""
    data = parse(ProjectStatusIn, await _body(request))
    if data.status not in PROJECT_STATUSES:
        raise InvalidStatus()
    project = await tenancy.get_project(
        session, _required("project_id", project_id), organization_id=organization.id
    )
    await tenancy.set_project_status(project, data.status)
    return {"message": "project status updated successfully", "status": "success"}

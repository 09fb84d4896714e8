"""Videsk VPaaS routes: ``/vpaas/rooms…`` onto RoomService and AccessService.

A room's Videsk ``id`` is the first 24 hex digits of its UUID; a path segment that is not 24-hex
is an ``externalId``. Access tokens are Conclave access tokens (``AccessService.issue_token``),
so the link they come with opens Conclave's meeting page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError

from conclave.access.schemas import TokenRequest
from conclave.access.service import AccessService
from conclave.compat.videsk.auth import VideskProject
from conclave.compat.videsk.errors import MethodNotAllowed, VideskRoute
from conclave.compat.videsk.schemas import (
    JoinBody,
    JoinOut,
    VideskPage,
    VideskRoom,
    VideskRoomCreate,
    VideskRoomPatch,
    VideskRoomPatched,
    VideskRoomWithToken,
    parse_list_query,
    room_view,
    uuid_prefix,
)
from conclave.kit.errors import BadRequest, Forbidden, NotFound
from conclave.kit.ids import new_id
from conclave.kit.routing import from_state
from conclave.kit.time import utcnow
from conclave.rooms.models import Room
from conclave.rooms.schemas import RoomCreate, RoomUpdate
from conclave.rooms.service import RoomService
from conclave.tenancy.auth import Session
from conclave.tenancy.models import Project

DEFAULT_DURATION = timedelta(hours=3)


room_service = from_state("rooms")


access_service = from_state("access")


Rooms = Annotated[RoomService, Depends(room_service)]
Access = Annotated[AccessService, Depends(access_service)]

router = APIRouter(prefix="/vpaas", tags=["Videsk VPaaS"], route_class=VideskRoute)


async def _resolve(session: Session, rooms: RoomService, project: Project, ref: str) -> Room:
    """ObjectId-style id first (a 24-hex segment), then externalId."""
    prefix = uuid_prefix(ref)
    if prefix is not None:
        try:
            return await rooms.get_room_by_id_prefix(session, project.id, prefix)
        except NotFound:
            pass
    return await rooms.get_room_by_external_id(session, project.id, ref)


async def _view(session: Session, access: AccessService, room: Room) -> dict[str, Any]:
    return room_view(room, await access.issued_tokens(session, room.project_id, room.id))


async def _token(session: Session, access: AccessService, project: Project, room: Room) -> str:
    """A fresh access token for the room's default role; the join flow enforces nbf/exp/ended."""
    issued = await access.issue_token(session, project, room, TokenRequest())
    # The session does not autoflush: make the new jti visible to the authorizations query.
    await session.flush()
    return issued.token


def _room_create(body: VideskRoomCreate) -> RoomCreate:
    now = utcnow()
    external_id = body.externalId or new_id()
    nbf = body.nbf or now
    values: dict[str, Any] = {
        "external_id": external_id,
        "name": body.name or external_id,
        "nbf": nbf,
        "exp": body.exp or nbf + DEFAULT_DURATION,
        **body.settings_fields(),
    }
    try:
        return RoomCreate.model_validate(values)
    except ValidationError as exc:
        raise BadRequest(str(exc.errors()[0]["msg"]), code="invalid_room") from None


@router.get("/rooms", response_model=VideskPage)
async def list_rooms(
    request: Request, project: VideskProject, session: Session, rooms: Rooms, access: Access
) -> VideskPage:
    """Rooms of the account. Query: `limit` (10), `skip`, `sort` (`{"createdAt":-1}`, `$sort[createdAt]=-1`
    or `createdAt:-1`), filters `ended` and `externalId`; Feathers's `$limit`/`$skip` work too."""
    query = parse_list_query(request.query_params)
    rows, total = await rooms.search_rooms(session, project.id, query)
    data = [VideskRoom.model_validate(await _view(session, access, row)) for row in rows]
    return VideskPage(total=total, limit=query.limit, skip=query.offset, data=data)


@router.post("/rooms", response_model=VideskRoomWithToken, status_code=201)
async def create_room(
    project: VideskProject,
    session: Session,
    rooms: Rooms,
    access: Access,
    body: VideskRoomCreate | None = None,
) -> VideskRoomWithToken:
    """Create a room (nbf defaults to now, exp to nbf + 3 h) and return it with an access token."""
    room = await rooms.create_room(session, project, _room_create(body or VideskRoomCreate()))
    token = await _token(session, access, project, room)
    return VideskRoomWithToken.model_validate({**await _view(session, access, room), "accessToken": token})


@router.get("/rooms/{roomId}", response_model=VideskRoom)
async def get_room(
    roomId: str, project: VideskProject, session: Session, rooms: Rooms, access: Access
) -> VideskRoom:
    """A room by its ObjectId-style id or its externalId."""
    room = await _resolve(session, rooms, project, roomId)
    return VideskRoom.model_validate(await _view(session, access, room))


@router.patch("/rooms/{roomId}", response_model=VideskRoomPatched, response_model_exclude_none=False)
async def update_room(
    roomId: str,
    body: VideskRoomPatch,
    project: VideskProject,
    session: Session,
    rooms: Rooms,
    access: Access,
) -> VideskRoomPatched:
    """Change name/nbf/exp, end (`ended: true`) or reopen (`ended: false`), and optionally get a new token.

    An ended room is "not found or already ended" unless the body reopens it.
    """
    room = await _resolve(session, rooms, project, roomId)
    if room.status == "ended":
        if body.ended is not False:
            raise NotFound("Room not found or already ended", code="room_ended")
        room = await rooms.reopen_room(session, project, room.id)
    changes = body.model_dump(include={"name", "nbf", "exp"}, exclude_unset=True)
    if changes:
        room = await rooms.update_room(session, project, room.id, RoomUpdate.model_validate(changes))
    if body.ended is True:
        if body.generateToken:
            raise BadRequest("cannot generate a token for a room that is being ended", code="room_ended")
        room = await rooms.end_room(session, project, room.id)
    token = await _token(session, access, project, room) if body.generateToken else None
    view = await _view(session, access, room)
    return VideskRoomPatched.model_validate({**view, "accessToken": token})


@router.delete("/rooms/{roomId}")
async def delete_room(roomId: str, project: VideskProject) -> None:
    """Room deletion is not permitted through the API: always Forbidden, as the reference documents."""
    raise Forbidden("Not allowed", code="room_deletion_not_allowed")


@router.post("/rooms/{roomId}/join", response_model=JoinOut, status_code=201)
async def join_room(
    roomId: str,
    project: VideskProject,
    session: Session,
    rooms: Rooms,
    access: Access,
    body: JoinBody | None = None,
) -> JoinOut:
    """An access token to join the room; Forbidden once the room has ended or expired."""
    room = await _resolve(session, rooms, project, roomId)
    if room.status == "ended":
        raise Forbidden("Room has ended", code="room_ended")
    if room.exp is not None and room.exp <= utcnow():
        raise Forbidden("Room has expired", code="room_expired")
    issued = await access.issue_token(session, project, room, TokenRequest())
    return JoinOut(accessToken=issued.token)


_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@router.api_route("/{path:path}", methods=_METHODS, include_in_schema=False)
async def unknown(path: str, request: Request) -> None:
    """Anything else under /vpaas answers in Feathers's shape too (405 on a known path, else 404)."""
    parts = path.strip("/").split("/")
    known = parts[0] == "rooms" and (len(parts) <= 2 or (len(parts) == 3 and parts[2] == "join"))
    if known:
        raise MethodNotAllowed(f"Method {request.method} is not supported by this endpoint.")
    raise NotFound(f"Page not found: {request.url.path}", code="not_found")

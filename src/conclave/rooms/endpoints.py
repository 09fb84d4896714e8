"""Native routes: default room settings, rooms, and room tokens (Digital Samba paths)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request

from conclave.access.schemas import TokenOut, TokenRequest
from conclave.access.service import AccessService
from conclave.kit.direct_route import DirectRoute
from conclave.kit.pagination import Page, PageParams, page_params
from conclave.kit.responses import ModelResponse
from conclave.kit.routing import TransactionalRoute, from_state
from conclave.retention.service import RetentionService
from conclave.rooms.schemas import (
    DeleteByTags,
    DeletedRooms,
    RoomCreate,
    RoomDefaultsOut,
    RoomDefaultsUpdate,
    RoomOut,
    RoomUpdate,
)
from conclave.rooms.service import RoomService
from conclave.tenancy.auth import CurrentProject, Session

Rooms = Annotated[RoomService, Depends(from_state("rooms"))]
Access = Annotated[AccessService, Depends(from_state("access"))]
Pagination = Annotated[PageParams, Depends(page_params)]

router = APIRouter(prefix="/api/v1", tags=["rooms"], route_class=TransactionalRoute)
# The most frequent calls of an integration (creating a room, issuing a token), in a router whose
# routes the app tries first (``kit.route_index.serve_first``), not through an included router,
# and which call their endpoints themselves for well-formed JSON (``kit.direct_route``).
first_router = APIRouter(prefix="/api/v1", tags=["rooms"], route_class=DirectRoute)


@router.get("", response_model=RoomDefaultsOut, tags=["default settings"])
async def get_default_settings(project: CurrentProject, rooms: Rooms) -> RoomDefaultsOut:
    """Default settings applied to new rooms."""
    return RoomDefaultsOut.model_validate(rooms.defaults(project))


@router.patch("", response_model=RoomDefaultsOut, tags=["default settings"])
async def update_default_settings(
    body: RoomDefaultsUpdate, project: CurrentProject, session: Session, rooms: Rooms
) -> RoomDefaultsOut:
    """Change the defaults for rooms created from now on; existing rooms keep their settings."""
    return RoomDefaultsOut.model_validate(await rooms.update_defaults(session, project, body))


@first_router.post("/rooms", response_model=RoomOut)
async def create_room(
    project: CurrentProject, session: Session, rooms: Rooms, body: RoomCreate | None = None
) -> ModelResponse:
    """Create a room; every field is optional and `{}` uses the project's default settings."""
    room = await rooms.create_room(session, project, body or RoomCreate())
    return ModelResponse(RoomOut.model_validate(rooms.view(room)))


@router.get("/rooms", response_model=Page[RoomOut])
async def list_rooms(
    project: CurrentProject,
    session: Session,
    rooms: Rooms,
    page: Pagination,
    tag: Annotated[list[str] | None, Query(description="Only rooms with any of these tags.")] = None,
) -> Page[RoomOut]:
    rows, total = await rooms.list_rooms(session, project.id, page, tag or [])
    return Page(total_count=total, data=[RoomOut.model_validate(rooms.view(row)) for row in rows])


@router.delete("/rooms/tags", response_model=DeletedRooms)
async def delete_rooms_by_tags(
    body: Annotated[DeleteByTags, Body()], project: CurrentProject, session: Session, request: Request
) -> DeletedRooms:
    """Delete every room that has any of the tags; rooms with a live session are skipped.

    ``delete_resources`` hard-deletes their stored content (recordings included),
    ``delete_history`` anonymises their participants, ``delete_library`` removes their libraries.
    """
    retention: RetentionService = request.app.state.retention
    deleted, skipped = await retention.delete_rooms_by_tags(
        session,
        project,
        body.tags,
        delete_resources=body.delete_resources,
        delete_history=body.delete_history,
        delete_library=body.delete_library,
    )
    return DeletedRooms(deleted=deleted, skipped=skipped)


@router.get("/rooms/{room}", response_model=RoomOut)
async def get_room(room: str, project: CurrentProject, session: Session, rooms: Rooms) -> RoomOut:
    """A room by UUID or friendly_url."""
    return RoomOut.model_validate(rooms.view(await rooms.get_room(session, project.id, room)))


@router.patch("/rooms/{room}", response_model=RoomOut)
async def update_room(
    room: str, body: RoomUpdate, project: CurrentProject, session: Session, rooms: Rooms
) -> RoomOut:
    return RoomOut.model_validate(rooms.view(await rooms.update_room(session, project, room, body)))


@router.delete("/rooms/{room}", status_code=204)
async def delete_room(room: str, project: CurrentProject, session: Session, rooms: Rooms) -> None:
    await rooms.delete_room(session, project, room)


@first_router.post("/rooms/{room}/token", response_model=TokenOut, tags=["tokens"])
async def issue_room_token(
    room: str,
    project: CurrentProject,
    session: Session,
    rooms: Rooms,
    access: Access,
    body: TokenRequest | None = None,
) -> ModelResponse:
    """An HS256 JWT for one participant, signed with the project secret, and a link that opens the room."""
    target = await rooms.token_room(session, project.id, room)
    issued = await access.issue_token(session, project, target, body or TokenRequest())
    return ModelResponse(TokenOut(token=issued.token, link=issued.link))

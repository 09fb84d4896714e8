"""Native chat routes (Digital Samba paths)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response

from conclave.chat.schemas import ChatMessageOut, ChatPost
from conclave.chat.service import ChatService
from conclave.kit.pagination import Page, PageParams, page_params
from conclave.kit.routing import TransactionalRoute, from_state
from conclave.tenancy.auth import CurrentProject, Session

Chat = Annotated[ChatService, Depends(from_state("chat"))]
Pagination = Annotated[PageParams, Depends(page_params)]
router = APIRouter(prefix="/api/v1", tags=["chat"], route_class=TransactionalRoute)


@router.get("/rooms/{room}/chat", response_model=Page[ChatMessageOut])
async def list_chat(
    room: str,
    project: CurrentProject,
    db: Session,
    chat: Chat,
    page: Pagination,
    session_id: Annotated[str | None, Query()] = None,
) -> Page[ChatMessageOut]:
    """Public messages of the room (private messages stay between their two participants)."""
    rows, total = await chat.list_messages(db, project.id, room, page, session_id)
    return Page(total_count=total, data=[ChatMessageOut.model_validate(row) for row in rows])


@router.get("/rooms/{room}/chat/export")
async def export_chat(
    room: str,
    project: CurrentProject,
    db: Session,
    chat: Chat,
    session_id: Annotated[str | None, Query()] = None,
    format: Annotated[Literal["txt", "json"], Query()] = "txt",
) -> Response:
    body = await chat.export(db, project.id, room, session_id, format)
    if format == "json":
        return Response(body, media_type="application/json")
    return PlainTextResponse(body)


@router.post("/rooms/{room}/chat", response_model=ChatMessageOut)
async def post_chat(
    room: str, body: ChatPost, project: CurrentProject, db: Session, chat: Chat
) -> ChatMessageOut:
    """Send a message into the room's live session; it appears at once in the meeting."""
    return ChatMessageOut.model_validate(await chat.post_from_api(db, project, room, body.message))


@router.delete("/rooms/{room}/chat", status_code=204)
async def delete_room_chat(room: str, project: CurrentProject, db: Session, chat: Chat) -> None:
    await chat.delete_room_chat(db, project.id, room)


@router.delete("/sessions/{session_id}/chat", status_code=204)
async def delete_session_chat(session_id: str, project: CurrentProject, db: Session, chat: Chat) -> None:
    await chat.delete_session_chat(db, project.id, session_id)

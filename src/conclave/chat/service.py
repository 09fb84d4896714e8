"""The only code that changes chat rows. Messages reach meetings through ``chat.message`` events."""

from __future__ import annotations

import json
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from conclave.chat.models import ChatMessage
from conclave.chat.repository import ChatRepository
from conclave.kit.errors import Conflict, NotFound
from conclave.kit.events import DomainEvent, emit
from conclave.kit.pagination import PageParams
from conclave.kit.time import isoformat
from conclave.rooms.service import RoomService
from conclave.sessions.models import Participant
from conclave.sessions.service import SessionService
from conclave.tenancy.models import Project


def message_view(message: ChatMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "participant_id": message.participant_id,
        "participant_name": message.participant_name,
        "external_participant_id": message.external_participant_id,
        "message": message.message,
        "private": message.private,
        "to": message.recipient_id,
        "session_id": message.session_id,
        "breakout_id": message.breakout_id,
        "created_at": isoformat(message.created_at),
    }


class ChatService:
    def __init__(self, rooms: RoomService, sessions: SessionService) -> None:
        self.rooms = rooms
        self.sessions = sessions

    async def _store(self, db: AsyncSession, message: ChatMessage) -> ChatMessage:
        db.add(message)
        await db.flush()
        emit(
            db,
            DomainEvent(
                type="chat.message",
                project_id=message.project_id,
                room_id=message.room_id,
                session_id=message.session_id,
                data={"room_id": message.room_id, **message_view(message)},
            ),
        )
        return message

    async def post_from_api(
        self, db: AsyncSession, project: Project, room_ref: str, text: str
    ) -> ChatMessage:
        """A message from the project itself (a bot identity) into the room's live session."""
        room = await self.rooms.get_room(db, project.id, room_ref)
        live = await self.sessions.live_session(db, project.id, room.id)
        if live is None:
            raise Conflict("the room has no live session to post into", code="no_live_session")
        return await self._store(
            db,
            ChatMessage(
                project_id=project.id,
                room_id=room.id,
                session_id=live.id,
                participant_name=project.name,
                message=text,
            ),
        )

    async def post_from_participant(
        self, db: AsyncSession, sender: Participant, text: str, *, to: str | None
    ) -> ChatMessage:
        if to is not None:
            recipient = await self.sessions.get_participant(db, sender.project_id, to)
            if recipient.session_id != sender.session_id or not recipient.present:
                raise NotFound("the recipient is not in this meeting", code="participant_not_found")
        return await self._store(
            db,
            ChatMessage(
                project_id=sender.project_id,
                room_id=sender.room_id,
                session_id=sender.session_id,
                participant_id=sender.id,
                participant_name=sender.name,
                external_participant_id=sender.external_id,
                recipient_id=to,
                message=text,
            ),
        )

    async def history_for(
        self, db: AsyncSession, participant: Participant, *, earlier_sessions: bool
    ) -> list[ChatMessage]:
        return await ChatRepository(db, participant.project_id).history_for(
            participant.room_id, participant.session_id, participant.id, earlier_sessions=earlier_sessions
        )

    async def list_messages(
        self, db: AsyncSession, project_id: str, room_ref: str, params: PageParams, session_id: str | None
    ) -> tuple[list[ChatMessage], int]:
        room = await self.rooms.get_room(db, project_id, room_ref)
        repository = ChatRepository(db, project_id)
        cursor = None
        if params.after:
            cursor = await repository.get(params.after)
            if cursor is None:
                raise NotFound(
                    f"message {params.after!r} given as 'after' not found", code="message_not_found"
                )
        return await repository.page(params, room_id=room.id, session_id=session_id, cursor=cursor)

    async def export(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        session_id: str | None,
        fmt: Literal["txt", "json"],
    ) -> str:
        room = await self.rooms.get_room(db, project_id, room_ref)
        messages = await ChatRepository(db, project_id).all_public(room.id, session_id)
        if fmt == "json":
            return json.dumps([message_view(m) for m in messages], ensure_ascii=False, indent=2)
        return "".join(
            f"[{isoformat(m.created_at)}] {m.participant_name or 'unknown'}: {m.message}\n" for m in messages
        )

    async def delete_room_chat(self, db: AsyncSession, project_id: str, room_ref: str) -> int:
        room = await self.rooms.get_room(db, project_id, room_ref)
        return await ChatRepository(db, project_id).delete_room(room.id)

    async def delete_session_chat(self, db: AsyncSession, project_id: str, session_id: str) -> int:
        session = await self.sessions.get_session(db, project_id, session_id)
        return await ChatRepository(db, project_id).delete_session(session.id)

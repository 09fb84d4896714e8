"""Every query of the chat domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, bindparam, delete, or_

from conclave.chat.models import ChatMessage
from conclave.kit.pagination import PageParams
from conclave.kit.repository import ProjectScopedRepository, prebuilt_scoped


def _history(*, earlier_sessions: bool) -> Any:
    """The query of :meth:`ChatRepository.history_for`."""
    me: BindParameter[str] = bindparam("participant_id")
    visible = or_(
        ChatMessage.recipient_id.is_(None), ChatMessage.recipient_id == me, ChatMessage.participant_id == me
    )
    scope = ChatMessage.session_id == bindparam("session_id")
    if earlier_sessions:
        scope = or_(scope, ChatMessage.recipient_id.is_(None))
    return (
        prebuilt_scoped(ChatMessage, ChatMessage.room_id == bindparam("room_id"), scope, visible)
        .order_by(ChatMessage.created_at, ChatMessage.id)
        .limit(500)
    )


# Every join sends the history: built once (see ``prebuilt_scoped``).
_HISTORY = {earlier: _history(earlier_sessions=earlier) for earlier in (False, True)}


class ChatRepository(ProjectScopedRepository[ChatMessage]):
    model = ChatMessage

    async def page(
        self, params: PageParams, *, room_id: str, session_id: str | None, cursor: ChatMessage | None
    ) -> tuple[list[ChatMessage], int]:
        statement = self.scoped().where(ChatMessage.room_id == room_id, ChatMessage.recipient_id.is_(None))
        if session_id is not None:
            statement = statement.where(ChatMessage.session_id == session_id)
        return await self.paginate(statement, params, cursor)

    async def get(self, message_id: str) -> ChatMessage | None:
        found: ChatMessage | None = (
            await self.session.execute(self.scoped().where(ChatMessage.id == message_id))
        ).scalar_one_or_none()
        return found

    async def all_public(self, room_id: str, session_id: str | None) -> list[ChatMessage]:
        statement = self.scoped().where(ChatMessage.room_id == room_id, ChatMessage.recipient_id.is_(None))
        if session_id is not None:
            statement = statement.where(ChatMessage.session_id == session_id)
        statement = statement.order_by(ChatMessage.created_at, ChatMessage.id)
        return list((await self.session.execute(statement)).scalars().all())

    async def history_for(
        self, room_id: str, session_id: str, participant_id: str, *, earlier_sessions: bool
    ) -> list[ChatMessage]:
        """What a joiner sees: this session's public messages and their own private ones."""
        found = await self.execute_prebuilt(
            _HISTORY[earlier_sessions], room_id=room_id, session_id=session_id, participant_id=participant_id
        )
        return list(found.scalars().all())

    async def delete_room(self, room_id: str) -> int:
        result = await self.session.execute(
            delete(ChatMessage).where(
                ChatMessage.project_id == self.project_id, ChatMessage.room_id == room_id
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def delete_session(self, session_id: str) -> int:
        result = await self.session.execute(
            delete(ChatMessage).where(
                ChatMessage.project_id == self.project_id, ChatMessage.session_id == session_id
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

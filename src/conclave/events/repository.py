"""Every query of the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.events.models import RoomEvent
from conclave.kit.db import table_of
from conclave.kit.pagination import PageParams
from conclave.kit.repository import ProjectScopedRepository

_INSERT_EVENTS = insert(table_of(RoomEvent))


class RoomEventRepository(ProjectScopedRepository[RoomEvent]):
    model = RoomEvent

    @staticmethod
    async def insert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
        """Log rows, each naming its own project (one transaction may touch several)."""
        await session.execute(_INSERT_EVENTS, rows[0] if len(rows) == 1 else rows)

    async def in_room(self, room_id: str, event_id: str) -> RoomEvent | None:
        statement = self.scoped().where(RoomEvent.room_id == room_id, RoomEvent.id == event_id)
        event: RoomEvent | None = (await self.session.execute(statement)).scalars().first()
        return event

    async def room_has_events(self, room_id: str) -> bool:
        statement = self.scoped(select(RoomEvent.id)).where(RoomEvent.room_id == room_id).limit(1)
        return (await self.session.execute(statement)).first() is not None

    async def of_session(self, session_id: str, prefixes: tuple[str, ...], limit: int) -> list[RoomEvent]:
        statement = (
            self.scoped()
            .where(
                RoomEvent.session_id == session_id,
                or_(*[RoomEvent.type.startswith(prefix, autoescape=True) for prefix in prefixes]),
            )
            .order_by(RoomEvent.created_at, RoomEvent.id)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def page_for_room(
        self,
        room_id: str,
        params: PageParams,
        *,
        types: list[str],
        since: datetime | None,
        until: datetime | None,
        cursor: RoomEvent | None,
    ) -> tuple[list[RoomEvent], int]:
        statement = self.scoped().where(RoomEvent.room_id == room_id)
        exact = [t for t in types if not t.endswith(".*")]
        families = [t[:-1] for t in types if t.endswith(".*")]
        if types:
            conditions: list[ColumnElement[bool]] = [RoomEvent.type.in_(exact)] if exact else []
            conditions += [RoomEvent.type.startswith(prefix, autoescape=True) for prefix in families]
            statement = statement.where(or_(*conditions))
        if since is not None:
            statement = statement.where(RoomEvent.created_at >= since)
        if until is not None:
            statement = statement.where(RoomEvent.created_at < until)
        return await self.paginate(statement, params, cursor)

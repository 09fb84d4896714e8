"""The event log: records every domain event in the committing transaction, and reads it back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conclave.events.models import RoomEvent
from conclave.events.repository import RoomEventRepository
from conclave.kit.errors import NotFound, ValidationFailed
from conclave.kit.events import DomainEvent
from conclave.kit.ids import is_uuid
from conclave.kit.pagination import PageParams
from conclave.kit.time import isoformat
from conclave.rooms.service import RoomService


def event_data(event: DomainEvent) -> dict[str, Any]:
    """The ``data`` object of the Digital Samba payload: ids first, then the event's own fields."""
    data: dict[str, Any] = {}
    if event.room_id is not None:
        data["room_id"] = event.room_id
    if event.session_id is not None:
        data["session_id"] = event.session_id
    return {**data, **event.data}


def payload(event: DomainEvent) -> dict[str, Any]:
    """The webhook body: ``{"event", "timestamp", "data"}`` as in the Digital Samba reference."""
    return {"event": event.type, "timestamp": isoformat(event.occurred_at), "data": event_data(event)}


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EventLogService:
    def __init__(self, rooms: RoomService) -> None:
        self.rooms = rooms

    async def record(self, session: AsyncSession, events: list[DomainEvent]) -> None:
        """Bus hook (in transaction): every event becomes a log row, atomically with its cause.

        One plain insert for all of them: every state change runs this, and nothing reads the
        rows back in the transaction, so the ORM's unit of work would only add cost.
        """
        if not events:
            return
        await RoomEventRepository.insert(
            session,
            [
                {
                    "id": event.id,
                    "project_id": event.project_id,
                    "room_id": event.room_id,
                    "session_id": event.session_id,
                    "type": event.type,
                    "data": event_data(event),
                    "created_at": event.occurred_at,
                }
                for event in events
            ],
        )

    async def session_events(
        self,
        session: AsyncSession,
        project_id: str,
        session_id: str,
        prefixes: tuple[str, ...],
        *,
        limit: int = 2000,
    ) -> list[DomainEvent]:
        """A session's stored events of some families, oldest first, as the bus carried them."""
        rows = await RoomEventRepository(session, project_id).of_session(session_id, prefixes, limit)
        return [
            DomainEvent(
                type=row.type,
                project_id=row.project_id,
                data=row.data,
                room_id=row.room_id,
                session_id=row.session_id,
                id=row.id,
                occurred_at=row.created_at,
            )
            for row in rows
        ]

    async def list_room_events(
        self,
        session: AsyncSession,
        project_id: str,
        room_ref: str,
        params: PageParams,
        *,
        types: list[str],
        since: datetime | None,
        until: datetime | None,
    ) -> tuple[list[RoomEvent], int]:
        since, until = _utc(since), _utc(until)
        if since is not None and until is not None and until <= since:
            raise ValidationFailed("'to' must be later than 'from'", code="invalid_time_range")
        repository = RoomEventRepository(session, project_id)
        room_id = await self._room_id(session, repository, project_id, room_ref)
        cursor = None
        if params.after is not None:
            cursor = await repository.in_room(room_id, params.after)
            if cursor is None:
                raise NotFound(f"event {params.after!r} given as 'after' not found", code="event_not_found")
        return await repository.page_for_room(
            room_id, params, types=types, since=since, until=until, cursor=cursor
        )

    async def _room_id(
        self, session: AsyncSession, repository: RoomEventRepository, project_id: str, ref: str
    ) -> str:
        """A live room by UUID or friendly_url; a deleted room by its UUID while its log remains."""
        try:
            return (await self.rooms.get_room(session, project_id, ref)).id
        except NotFound:
            if is_uuid(ref) and await repository.room_has_events(ref.lower()):
                return ref.lower()
            raise

"""The rows statistics are computed from; aggregation happens in Python so both databases agree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.recordings.models import Recording
from conclave.rooms.models import Room
from conclave.sessions.models import Participant, Session


class StatisticsRepository:
    """Read-only: scoped to one project, never writes."""

    def __init__(self, session: AsyncSession, project_id: str) -> None:
        self.session = session
        self.project_id = project_id

    async def _rows(self, statement: Any) -> list[Any]:
        return list((await self.session.execute(statement)).all())

    async def rooms_created(self, start: datetime, end: datetime) -> list[Any]:
        return await self._rows(
            select(Room.id, Room.created_at).where(
                Room.project_id == self.project_id, Room.created_at >= start, Room.created_at < end
            )
        )

    async def room_counts(self, end: datetime) -> tuple[int, int]:
        total = select(func.count(Room.id)).where(Room.project_id == self.project_id, Room.created_at < end)
        live = select(func.count(Room.id)).where(Room.project_id == self.project_id, Room.status == "live")
        return (
            int((await self.session.execute(total)).scalar_one()),
            int((await self.session.execute(live)).scalar_one()),
        )

    async def sessions_overlapping(self, start: datetime, end: datetime) -> list[Any]:
        """Sessions that were live at some point of [start, end)."""
        return await self._rows(
            select(
                Session.id,
                Session.room_id,
                Session.status,
                Session.started_at,
                Session.ended_at,
                Session.peak_participants,
            ).where(
                Session.project_id == self.project_id,
                Session.started_at < end,
                or_(Session.ended_at.is_(None), Session.ended_at >= start),
            )
        )

    async def participants_overlapping(self, start: datetime, end: datetime) -> list[Any]:
        return await self._rows(
            select(Participant.id, Participant.external_id, Participant.joined_at, Participant.left_at).where(
                Participant.project_id == self.project_id,
                Participant.joined_at.is_not(None),
                Participant.joined_at < end,
                or_(Participant.left_at.is_(None), Participant.left_at >= start),
            )
        )

    async def recordings_started(self, start: datetime, end: datetime) -> list[Any]:
        return await self._rows(
            select(
                Recording.id, Recording.status, Recording.started_at, Recording.duration, Recording.size
            ).where(
                Recording.project_id == self.project_id,
                Recording.started_at >= start,
                Recording.started_at < end,
            )
        )

"""``GET /api/v1/statistics/rooms|participants|sessions|recordings`` with ``from``/``to``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from conclave.kit.errors import ValidationFailed
from conclave.kit.routing import TransactionalRoute, from_state
from conclave.statistics.schemas import (
    ParticipantStatistics,
    RecordingStatistics,
    RoomStatistics,
    SessionStatistics,
)
from conclave.statistics.service import StatisticsService, resolve_range
from conclave.tenancy.auth import CurrentProject, Session

statistics_service = from_state("statistics")


def _moment(value: str | None, name: str) -> date | datetime | None:
    """An ISO date (``2024-01-15``) or time (``2024-01-15T10:00:00Z``; no zone means UTC)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{name!r} must be an ISO 8601 date or time", code="invalid_range") from None


def date_range(
    start: Annotated[
        str | None,
        Query(alias="from", max_length=40, description="ISO date or time; default: 30 days before 'to'."),
    ] = None,
    end: Annotated[
        str | None,
        Query(alias="to", max_length=40, description="ISO date (that day included) or time; default: now."),
    ] = None,
) -> tuple[datetime, datetime]:
    return resolve_range(_moment(start, "from"), _moment(end, "to"))


Statistics = Annotated[StatisticsService, Depends(statistics_service)]
Range = Annotated[tuple[datetime, datetime], Depends(date_range)]
router = APIRouter(prefix="/api/v1/statistics", tags=["statistics"], route_class=TransactionalRoute)


@router.get("/rooms", response_model=RoomStatistics)
async def room_statistics(
    project: CurrentProject, db: Session, stats: Statistics, span: Range
) -> RoomStatistics:
    """Rooms created, rooms with a session (active) and live now, per UTC day."""
    return RoomStatistics.model_validate(await stats.rooms(db, project.id, *span))


@router.get("/sessions", response_model=SessionStatistics)
async def session_statistics(
    project: CurrentProject, db: Session, stats: Statistics, span: Range
) -> SessionStatistics:
    """Sessions live in the range, their minutes inside it and their peak participants."""
    return SessionStatistics.model_validate(await stats.sessions(db, project.id, *span))


@router.get("/participants", response_model=ParticipantStatistics)
async def participant_statistics(
    project: CurrentProject, db: Session, stats: Statistics, span: Range
) -> ParticipantStatistics:
    """Participants present in the range, unique people (by external id), minutes and peak concurrency."""
    return ParticipantStatistics.model_validate(await stats.participants(db, project.id, *span))


@router.get("/recordings", response_model=RecordingStatistics)
async def recording_statistics(
    project: CurrentProject, db: Session, stats: Statistics, span: Range
) -> RecordingStatistics:
    """Recordings started in the range: by status, minutes and stored bytes."""
    return RecordingStatistics.model_validate(await stats.recordings(db, project.id, *span))

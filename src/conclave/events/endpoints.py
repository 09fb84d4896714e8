"""Native route: a room's event log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from conclave.events.schemas import EventOut, is_known_pattern
from conclave.events.service import EventLogService
from conclave.kit.errors import ValidationFailed
from conclave.kit.pagination import Page, PageParams, page_params
from conclave.kit.routing import TransactionalRoute, from_state
from conclave.tenancy.auth import CurrentProject, Session

event_log = from_state("events")


EventLog = Annotated[EventLogService, Depends(event_log)]
Pagination = Annotated[PageParams, Depends(page_params)]

router = APIRouter(prefix="/api/v1", tags=["events"], route_class=TransactionalRoute)


@router.get("/rooms/{room}/events", response_model=Page[EventOut])
async def list_room_events(
    room: str,
    project: CurrentProject,
    session: Session,
    events: EventLog,
    page: Pagination,
    type: Annotated[
        list[str] | None, Query(description="Only these event types; `room.*` matches a family.")
    ] = None,
    since: Annotated[
        datetime | None, Query(alias="from", description="Only events at or after this time (ISO 8601).")
    ] = None,
    until: Annotated[
        datetime | None, Query(alias="to", description="Only events before this time (ISO 8601).")
    ] = None,
) -> Page[EventOut]:
    """Every event of a room, newest first by default. The log outlives a deleted room (use its UUID)."""
    types = type or []
    unknown = [t for t in types if not is_known_pattern(t)]
    if unknown:
        raise ValidationFailed(
            f"unknown event types: {', '.join(unknown)}",
            code="unknown_event_type",
            details={"unknown": unknown},
        )
    rows, total = await events.list_room_events(
        session, project.id, room, page, types=types, since=since, until=until
    )
    return Page(total_count=total, data=[EventOut.model_validate(row) for row in rows])

"""Native poll routes (Digital Samba paths plus launch/end/results), poll realtime messages, fan-out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conclave.kit.errors import Forbidden
from conclave.kit.events import DomainEvent, EventBus
from conclave.kit.pagination import Page, PageParams, page_params
from conclave.kit.routing import TransactionalRoute, from_state
from conclave.kit.transaction import transaction
from conclave.kit.uploads import MAX_IMPORT_BYTES
from conclave.polls.schemas import (
    PollCreate,
    PollEndMessage,
    PollImportOut,
    PollLaunchMessage,
    PollOut,
    PollResults,
    PollVoteMessage,
)
from conclave.polls.service import TEMPLATE, NewPoll, PollService, PollView, poll_view
from conclave.realtime.service import PeerContext, Realtime
from conclave.tenancy.auth import CurrentProject, Session

poll_service = from_state("polls")


Polls = Annotated[PollService, Depends(poll_service)]
Pagination = Annotated[PageParams, Depends(page_params)]
router = APIRouter(prefix="/api/v1", tags=["polls"], route_class=TransactionalRoute)


def poll_out(view: PollView) -> PollOut:
    return PollOut.model_validate(poll_view(view))


@router.get("/rooms/{room}/polls", response_model=Page[PollOut])
async def list_polls(
    room: str, project: CurrentProject, db: Session, polls: Polls, page: Pagination
) -> Page[PollOut]:
    views, total = await polls.list_polls(db, project.id, room, page)
    return Page(total_count=total, data=[poll_out(v) for v in views])


@router.post("/rooms/{room}/polls", response_model=PollOut)
async def create_poll(
    room: str, body: PollCreate, project: CurrentProject, db: Session, polls: Polls
) -> PollOut:
    """Create a draft poll; ``type`` single | multiple | free (the boolean ``multiple`` is deprecated)."""
    assert body.type is not None  # resolved by the schema
    new = NewPoll(body.question, body.type, body.anonymous, [(o.id, o.label) for o in body.options])
    return poll_out(await polls.create(db, project.id, room, new))


@router.delete("/rooms/{room}/polls", status_code=204)
async def delete_room_polls(room: str, project: CurrentProject, db: Session, polls: Polls) -> None:
    await polls.delete_room_polls(db, project.id, room)


@router.get("/rooms/{room}/polls/template")
async def poll_template(room: str, project: CurrentProject, db: Session, polls: Polls) -> Response:
    """The CSV layout ``POST …/polls/import`` reads: one poll per row, options in the trailing columns."""
    await polls.rooms.get_room(db, project.id, room)
    return Response(
        TEMPLATE, media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="polls.csv"'}
    )


@router.post("/rooms/{room}/polls/import", response_model=PollImportOut)
async def import_polls(
    room: str, project: CurrentProject, db: Session, polls: Polls, file: Annotated[UploadFile, File()]
) -> PollImportOut:
    """Import drafts from a CSV/TXT file (≤ 2 MB); any bad row rejects the file, naming its line."""
    data = await file.read(MAX_IMPORT_BYTES + 1)
    views = await polls.import_polls(db, project.id, room, data, file.filename, file.content_type)
    return PollImportOut(imported=len(views), data=[poll_out(v) for v in views])


@router.get("/rooms/{room}/polls/{poll}", response_model=PollOut)
async def get_poll(room: str, poll: str, project: CurrentProject, db: Session, polls: Polls) -> PollOut:
    return poll_out(await polls.get_poll(db, project.id, room, poll))


@router.delete("/rooms/{room}/polls/{poll}", status_code=204)
async def delete_poll(room: str, poll: str, project: CurrentProject, db: Session, polls: Polls) -> None:
    await polls.delete_poll(db, project.id, room, poll)


@router.post("/rooms/{room}/polls/{poll}/launch", response_model=PollOut)
async def launch_poll(room: str, poll: str, project: CurrentProject, db: Session, polls: Polls) -> PollOut:
    """Open a draft for votes in the room's live session (409 without one)."""
    return poll_out(await polls.launch(db, project.id, room, poll))


@router.post("/rooms/{room}/polls/{poll}/end", response_model=PollResults)
async def end_poll(room: str, poll: str, project: CurrentProject, db: Session, polls: Polls) -> PollResults:
    """Close a launched poll; returns its final results (also pushed to the meeting)."""
    return PollResults.model_validate(await polls.end(db, project.id, room, poll))


@router.get("/rooms/{room}/polls/{poll}/results", response_model=PollResults)
async def poll_results(
    room: str, poll: str, project: CurrentProject, db: Session, polls: Polls
) -> PollResults:
    return PollResults.model_validate(await polls.results(db, project.id, room, poll))


@router.delete("/sessions/{session_id}/polls", status_code=204)
async def delete_session_polls(session_id: str, project: CurrentProject, db: Session, polls: Polls) -> None:
    await polls.delete_session_polls(db, project.id, session_id)


# -- in the meeting --------------------------------------------------------------------------


def register_live(
    realtime: Realtime, polls: PollService, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus
) -> None:
    """``poll_vote`` for everyone, ``poll_launch``/``poll_end`` for ``manage_polls``; pushes after commit."""

    def moderator(context: PeerContext) -> None:
        if not context.permissions.get("manage_polls", False):
            raise Forbidden(f"your role ({context.role}) may not do this: manage_polls", code="not_allowed")

    async def vote(context: PeerContext, message: PollVoteMessage) -> dict[str, Any]:
        async with transaction(sessionmaker, bus) as db:
            poll = await polls.poll_in_room(db, context.project_id, context.room_id, message.poll_id)
            tally = await polls.vote(
                db,
                poll,
                participant_id=context.participant_id,
                session_id=context.session_id,
                option_ids=[o.lower() for o in message.option_ids],
                text=message.text,
            )
        return {"type": "ok", **tally}

    async def launch(context: PeerContext, message: PollLaunchMessage) -> dict[str, Any]:
        moderator(context)
        async with transaction(sessionmaker, bus) as db:
            poll = await polls.poll_in_room(db, context.project_id, context.room_id, message.poll_id)
            await polls.open(db, poll)
        return {"type": "ok", "poll_id": message.poll_id}

    async def end(context: PeerContext, message: PollEndMessage) -> dict[str, Any]:
        moderator(context)
        async with transaction(sessionmaker, bus) as db:
            poll = await polls.poll_in_room(db, context.project_id, context.room_id, message.poll_id)
            results = await polls.close(db, poll)
        return {"type": "ok", "poll_id": message.poll_id, "results": results}

    realtime.register_message("poll_vote", PollVoteMessage, vote)
    realtime.register_message("poll_launch", PollLaunchMessage, launch)
    realtime.register_message("poll_end", PollEndMessage, end)

    def poll_message(event: DomainEvent, viewer: str | None = None) -> dict[str, Any] | None:
        """What participants are sent for a poll event: live, and replayed to late joiners."""
        data = event.data
        message: dict[str, Any] | None = None
        if event.type == "poll.started":
            message = {"type": "poll_started", "poll": data["poll"]}
        elif event.type == "poll.voted":
            message = {
                "type": "poll_updated",
                "poll_id": data["poll_id"],
                "voted": data["voted"],
                "counts": data["counts"],
            }
        elif event.type == "poll.ended":
            message = {"type": "poll_ended", "poll_id": data["poll_id"], "results": data["results"]}
        elif event.type == "poll.deleted":
            message = {"type": "poll_deleted", "poll_id": data["poll_id"]}
        return message

    async def fan_out(event: DomainEvent) -> None:
        if event.room_id is None or not event.type.startswith("poll."):
            return
        message = poll_message(event)
        if message is not None:
            await realtime.broadcast_to_room(event.room_id, message)

    bus.subscribe(fan_out)
    realtime.register_replay("poll.", poll_message)

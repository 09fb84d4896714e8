"""Native transcript and summary routes, the ``caption`` realtime message and its live fan-out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conclave.kit.errors import Forbidden
from conclave.kit.events import DomainEvent, EventBus
from conclave.kit.pagination import Page, PageParams, page_params
from conclave.kit.routing import TransactionalRoute, from_state
from conclave.kit.transaction import transaction
from conclave.realtime.service import PeerContext, Realtime
from conclave.tenancy.auth import CurrentProject, Session
from conclave.transcripts.schemas import CaptionMessage, ExportOptions, Locale, SegmentOut, SummaryOut
from conclave.transcripts.service import TranscriptService, segment_view, summary_view

transcript_service = from_state("transcripts")


Transcripts = Annotated[TranscriptService, Depends(transcript_service)]
Pagination = Annotated[PageParams, Depends(page_params)]
Format = Annotated[Literal["txt", "json"], Query()]
router = APIRouter(prefix="/api/v1", tags=["transcripts"], route_class=TransactionalRoute)


def _export(body: str, fmt: str) -> Response:
    if fmt == "json":
        return Response(body, media_type="application/json")
    return PlainTextResponse(body)


@router.get("/rooms/{room}/transcripts", response_model=Page[SegmentOut])
async def list_room_transcripts(
    room: str,
    project: CurrentProject,
    db: Session,
    transcripts: Transcripts,
    page: Pagination,
    session_id: Annotated[str | None, Query()] = None,
) -> Page[SegmentOut]:
    """Stored caption lines of the room (every session, or one with ``session_id``)."""
    rows, total = await transcripts.list_segments(db, project.id, page, room_ref=room, session_id=session_id)
    return Page(total_count=total, data=[SegmentOut.model_validate(segment_view(r)) for r in rows])


@router.get("/rooms/{room}/transcripts/export")
async def export_room_transcripts(
    room: str,
    project: CurrentProject,
    db: Session,
    transcripts: Transcripts,
    format: Format = "txt",
    locale: Annotated[Locale | None, Query()] = None,
    lang: Annotated[Locale | None, Query()] = None,
    session_id: Annotated[str | None, Query()] = None,
    options: Annotated[ExportOptions | None, Body()] = None,
) -> Response:
    """``locale``/``lang`` (query or the reference's JSON body) pick the language of the txt labels."""
    chosen = locale or lang or (options.locale or options.lang if options else None)
    body = await transcripts.export(
        db, project.id, format, room_ref=room, session_id=session_id, locale=chosen
    )
    return _export(body, format)


@router.delete("/rooms/{room}/transcripts", status_code=204)
async def delete_room_transcripts(
    room: str, project: CurrentProject, db: Session, transcripts: Transcripts
) -> None:
    await transcripts.delete_transcripts(db, project.id, room_ref=room)


@router.delete("/rooms/{room}/summaries", status_code=204)
async def delete_room_summaries(
    room: str, project: CurrentProject, db: Session, transcripts: Transcripts
) -> None:
    await transcripts.delete_summaries(db, project.id, room_ref=room)


@router.get("/sessions/{session_id}/transcripts", response_model=Page[SegmentOut])
async def list_session_transcripts(
    session_id: str, project: CurrentProject, db: Session, transcripts: Transcripts, page: Pagination
) -> Page[SegmentOut]:
    rows, total = await transcripts.list_segments(db, project.id, page, room_ref=None, session_id=session_id)
    return Page(total_count=total, data=[SegmentOut.model_validate(segment_view(r)) for r in rows])


@router.get("/sessions/{session_id}/transcripts/export")
async def export_session_transcripts(
    session_id: str,
    project: CurrentProject,
    db: Session,
    transcripts: Transcripts,
    format: Format = "txt",
    locale: Annotated[Locale | None, Query()] = None,
    lang: Annotated[Locale | None, Query()] = None,
    options: Annotated[ExportOptions | None, Body()] = None,
) -> Response:
    chosen = locale or lang or (options.locale or options.lang if options else None)
    body = await transcripts.export(
        db, project.id, format, room_ref=None, session_id=session_id, locale=chosen
    )
    return _export(body, format)


@router.delete("/sessions/{session_id}/transcripts", status_code=204)
async def delete_session_transcripts(
    session_id: str, project: CurrentProject, db: Session, transcripts: Transcripts
) -> None:
    await transcripts.delete_transcripts(db, project.id, session_id=session_id)


@router.get("/sessions/{session_id}/summary", response_model=SummaryOut)
async def get_summary(
    session_id: str, project: CurrentProject, db: Session, transcripts: Transcripts
) -> SummaryOut:
    """``IN_PROGRESS`` while the summary job runs (poll again), then ``READY``; 404 without a transcript."""
    return SummaryOut.model_validate(summary_view(await transcripts.get_summary(db, project.id, session_id)))


@router.delete("/sessions/{session_id}/summaries", status_code=204)
async def delete_session_summaries(
    session_id: str, project: CurrentProject, db: Session, transcripts: Transcripts
) -> None:
    await transcripts.delete_summaries(db, project.id, session_id=session_id)


# -- in the meeting --------------------------------------------------------------------------


def register_live(
    realtime: Realtime,
    transcripts: TranscriptService,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: EventBus,
) -> None:
    """``caption`` from a participant with ``broadcast``: final lines are stored, all are shown live."""

    async def caption(context: PeerContext, message: CaptionMessage) -> dict[str, Any] | None:
        if not context.permissions.get("broadcast", False):
            raise Forbidden(f"your role ({context.role}) may not do this: broadcast", code="not_allowed")
        if context.session_id is None:
            raise Forbidden("the room has no live session", code="no_live_session")
        if not message.final:
            # Interim hypotheses change many times a second: shown, never stored (like reactions).
            await realtime.broadcast_to_room(
                context.room_id,
                {
                    "type": "caption",
                    "participant_id": message.speaker_id or context.participant_id,
                    "participant_name": None if message.speaker_id else context.name,
                    "text": message.text,
                    "final": False,
                },
            )
            return None
        async with transaction(sessionmaker, bus) as db:
            segment = await transcripts.add_caption(
                db,
                context.project_id,
                context.session_id,
                context.participant_id,
                message.text,
                speaker_id=message.speaker_id,
                language=message.language,
                start=message.start_time,
                end=message.end_time,
            )
        return {"type": "ok", "segment_id": segment.id}

    realtime.register_message("caption", CaptionMessage, caption)

    async def fan_out(event: DomainEvent) -> None:
        if event.type != "transcript.segment" or event.room_id is None:
            return
        data = event.data
        await realtime.broadcast_to_room(
            event.room_id,
            {
                "type": "caption",
                "participant_id": data["participant_id"],
                "participant_name": data["participant_name"],
                "text": data["transcript"],
                "final": True,
                "segment_id": data["segment_id"],
                "start_time": data["start_time"],
                "end_time": data["end_time"],
            },
        )

    bus.subscribe(fan_out)

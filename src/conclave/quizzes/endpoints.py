"""Native quiz routes (Digital Samba paths plus launch/end), quiz realtime messages and fan-out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conclave.kit.errors import Forbidden
from conclave.kit.events import DomainEvent, EventBus
from conclave.kit.pagination import Page, PageParams, page_params
from conclave.kit.routing import TransactionalRoute, from_state
from conclave.kit.transaction import transaction
from conclave.kit.uploads import MAX_IMPORT_BYTES
from conclave.quizzes.schemas import (
    QuizAnswerMessage,
    QuizCreate,
    QuizEndMessage,
    QuizImportOut,
    QuizLaunchMessage,
    QuizOut,
    QuizSummaryOut,
    QuizUpdate,
)
from conclave.quizzes.service import TEMPLATE, QuizService, QuizView, quiz_view
from conclave.realtime.service import PeerContext, Realtime
from conclave.tenancy.auth import CurrentProject, Session

quiz_service = from_state("quizzes")


Quizzes = Annotated[QuizService, Depends(quiz_service)]
Pagination = Annotated[PageParams, Depends(page_params)]
router = APIRouter(prefix="/api/v1", tags=["quizzes"], route_class=TransactionalRoute)


def quiz_out(view: QuizView) -> QuizOut:
    return QuizOut.model_validate(quiz_view(view))


@router.get("/rooms/{room}/quizzes", response_model=Page[QuizSummaryOut])
async def list_quizzes(
    room: str, project: CurrentProject, db: Session, quizzes: Quizzes, page: Pagination
) -> Page[QuizSummaryOut]:
    rows, total = await quizzes.list_quizzes(db, project.id, room, page)
    return Page(
        total_count=total,
        data=[QuizSummaryOut.model_validate(quiz_view(QuizView(q, []))) for q in rows],
    )


@router.post("/rooms/{room}/quizzes", response_model=QuizOut)
async def create_quiz(
    room: str, body: QuizCreate, project: CurrentProject, db: Session, quizzes: Quizzes
) -> QuizOut:
    """Create a quiz; every question needs 2+ choices and a correct one (exactly one unless ``multiple``)."""
    return quiz_out(await quizzes.create(db, project.id, room, body))


@router.delete("/rooms/{room}/quizzes", status_code=204)
async def delete_room_quizzes(room: str, project: CurrentProject, db: Session, quizzes: Quizzes) -> None:
    await quizzes.delete_room_quizzes(db, project.id, room)


@router.get("/rooms/{room}/quizzes/template")
async def quiz_template(room: str, project: CurrentProject, db: Session, quizzes: Quizzes) -> Response:
    """One question per row; rows with the same quiz title form one quiz; ``correct`` = choice numbers."""
    await quizzes.rooms.get_room(db, project.id, room)
    return Response(
        TEMPLATE, media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="quizzes.csv"'}
    )


@router.post("/rooms/{room}/quizzes/import", response_model=QuizImportOut)
async def import_quizzes(
    room: str, project: CurrentProject, db: Session, quizzes: Quizzes, file: Annotated[UploadFile, File()]
) -> QuizImportOut:
    """Import quizzes from a CSV/TXT file (≤ 2 MB); any bad row rejects the file, naming its line."""
    data = await file.read(MAX_IMPORT_BYTES + 1)
    views = await quizzes.import_quizzes(db, project.id, room, data, file.filename, file.content_type)
    return QuizImportOut(imported=len(views), data=[quiz_out(v) for v in views])


@router.get("/rooms/{room}/quizzes/export")
async def export_quizzes(
    room: str,
    project: CurrentProject,
    db: Session,
    quizzes: Quizzes,
    format: Annotated[Literal["csv", "txt", "json"], Query()] = "csv",
) -> Response:
    """Results of every run of the room's quizzes."""
    body = await quizzes.export(db, project.id, room, format)
    if format == "json":
        return Response(body, media_type="application/json")
    if format == "csv":
        return Response(body, media_type="text/csv")
    return PlainTextResponse(body)


@router.get("/rooms/{room}/quizzes/{quiz}", response_model=QuizOut)
async def get_quiz(room: str, quiz: str, project: CurrentProject, db: Session, quizzes: Quizzes) -> QuizOut:
    return quiz_out(await quizzes.get_quiz(db, project.id, room, quiz))


@router.patch("/rooms/{room}/quizzes/{quiz}", response_model=QuizOut)
async def update_quiz(
    room: str, quiz: str, body: QuizUpdate, project: CurrentProject, db: Session, quizzes: Quizzes
) -> QuizOut:
    """Questions and choices with an ``id`` are updated, those without one are created."""
    return quiz_out(await quizzes.update(db, project.id, room, quiz, body))


@router.delete("/rooms/{room}/quizzes/{quiz}", status_code=204)
async def delete_quiz(room: str, quiz: str, project: CurrentProject, db: Session, quizzes: Quizzes) -> None:
    await quizzes.delete_quiz(db, project.id, room, quiz)


@router.get("/rooms/{room}/quizzes/{quiz}/results")
async def quiz_results(
    room: str,
    quiz: str,
    project: CurrentProject,
    db: Session,
    quizzes: Quizzes,
    session_id: Annotated[str | None, Query()] = None,
) -> list[dict[str, Any]]:
    """One entry per run (session): each question's answer count and who chose which choice."""
    return await quizzes.results(db, project.id, room, quiz, session_id)


@router.post("/rooms/{room}/quizzes/{quiz}/launch")
async def launch_quiz(
    room: str, quiz: str, project: CurrentProject, db: Session, quizzes: Quizzes
) -> dict[str, Any]:
    """Run the quiz in the room's live session; the server refuses answers after the time limit."""
    return await quizzes.launch(db, project.id, room, quiz)


@router.post("/rooms/{room}/quizzes/{quiz}/end")
async def end_quiz(
    room: str, quiz: str, project: CurrentProject, db: Session, quizzes: Quizzes
) -> dict[str, Any]:
    return await quizzes.end(db, project.id, room, quiz)


@router.delete("/sessions/{session_id}/quizzes", status_code=204)
async def delete_session_quizzes(
    session_id: str, project: CurrentProject, db: Session, quizzes: Quizzes
) -> None:
    """Delete the session's quiz runs and answers (the quiz definitions belong to the room)."""
    await quizzes.delete_session_quizzes(db, project.id, session_id)


# -- in the meeting --------------------------------------------------------------------------


def register_live(
    realtime: Realtime, quizzes: QuizService, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus
) -> None:
    """``quiz_answer`` for everyone, ``quiz_launch``/``quiz_end`` for ``manage_polls``."""

    def moderator(context: PeerContext) -> None:
        if not context.permissions.get("manage_polls", False):
            raise Forbidden(f"your role ({context.role}) may not do this: manage_polls", code="not_allowed")

    async def launch(context: PeerContext, message: QuizLaunchMessage) -> dict[str, Any]:
        moderator(context)
        async with transaction(sessionmaker, bus) as db:
            quiz = await quizzes.quiz_in_room(db, context.project_id, context.room_id, message.quiz_id)
            run = await quizzes.start(db, quiz)
        return {
            "type": "ok",
            "quiz_id": message.quiz_id,
            "run_id": run["run_id"],
            "deadline": run["deadline"],
        }

    async def end(context: PeerContext, message: QuizEndMessage) -> dict[str, Any]:
        moderator(context)
        async with transaction(sessionmaker, bus) as db:
            quiz = await quizzes.quiz_in_room(db, context.project_id, context.room_id, message.quiz_id)
            results = await quizzes.stop(db, quiz)
        return {"type": "ok", "quiz_id": message.quiz_id, "results": results}

    async def answer(context: PeerContext, message: QuizAnswerMessage) -> dict[str, Any]:
        async with transaction(sessionmaker, bus) as db:
            quiz = await quizzes.quiz_in_room(db, context.project_id, context.room_id, message.quiz_id)
            recorded = await quizzes.answer(
                db,
                quiz,
                participant_id=context.participant_id,
                session_id=context.session_id,
                question_id=message.question_id,
                choice_ids=message.choice_ids,
            )
        return {"type": "ok", **recorded}

    realtime.register_message("quiz_launch", QuizLaunchMessage, launch)
    realtime.register_message("quiz_end", QuizEndMessage, end)
    realtime.register_message("quiz_answer", QuizAnswerMessage, answer)

    def quiz_message(event: DomainEvent, viewer: str | None = None) -> dict[str, Any] | None:
        """What participants are sent for a quiz event: live, and replayed to late joiners."""
        data = event.data
        if event.type == "quiz.started":
            return {
                "type": "quiz_started",
                "run_id": data["run_id"],
                "deadline": data["deadline"],
                "quiz": data["quiz"],
            }
        if event.type == "quiz.ended":
            return {"type": "quiz_ended", "quiz_id": data["quiz_id"], "results": data["results"]}
        return None

    async def fan_out(event: DomainEvent) -> None:
        message = quiz_message(event) if event.room_id is not None else None
        if message is not None and event.room_id is not None:
            await realtime.broadcast_to_room(event.room_id, message)

    bus.subscribe(fan_out)
    realtime.register_replay("quiz.", quiz_message)

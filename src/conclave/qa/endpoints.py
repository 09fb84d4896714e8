"""Native Q&A routes (Digital Samba paths), the Q&A realtime messages and their live fan-out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conclave.kit.errors import Forbidden
from conclave.kit.events import DomainEvent, EventBus
from conclave.kit.pagination import Page, PageParams, page_params
from conclave.kit.routing import TransactionalRoute, from_state
from conclave.kit.transaction import transaction
from conclave.qa.schemas import (
    ActorBody,
    AnswerCreate,
    AnswerMessage,
    AnswerOut,
    AnswerUpdate,
    AskMessage,
    ModerateQuestionMessage,
    QuestionCreate,
    QuestionOut,
    QuestionUpdate,
    VoteMessage,
)
from conclave.qa.service import QaService, QuestionView, question_view
from conclave.realtime.service import PeerContext, Realtime
from conclave.tenancy.auth import CurrentProject, Session

qa_service = from_state("qa")


Qa = Annotated[QaService, Depends(qa_service)]
Pagination = Annotated[PageParams, Depends(page_params)]
router = APIRouter(prefix="/api/v1", tags=["q&a"], route_class=TransactionalRoute)


def question_out(view: QuestionView) -> QuestionOut:
    return QuestionOut.model_validate(question_view(view.question, view.answers))


@router.get("/rooms/{room}/questions", response_model=Page[QuestionOut])
async def list_questions(
    room: str,
    project: CurrentProject,
    db: Session,
    qa: Qa,
    page: Pagination,
    session_id: Annotated[str | None, Query()] = None,
) -> Page[QuestionOut]:
    """Questions of the room with their answers (private ones included: the API caller sees all)."""
    views, total = await qa.list_questions(db, project.id, room, page, session_id)
    return Page(total_count=total, data=[question_out(v) for v in views])


@router.post("/rooms/{room}/questions", response_model=QuestionOut)
async def create_question(
    room: str, body: QuestionCreate, project: CurrentProject, db: Session, qa: Qa
) -> QuestionOut:
    """Ask a question; it joins the room's live session (and appears in the meeting) if there is one."""
    view = await qa.create_question(
        db,
        project.id,
        room,
        body.participant,
        body.question,
        anonymous=body.anonymous,
        breakout_id=body.breakout_id,
    )
    return question_out(view)


@router.get("/rooms/{room}/questions/export")
async def export_questions(
    room: str,
    project: CurrentProject,
    db: Session,
    qa: Qa,
    session_id: Annotated[str | None, Query()] = None,
    format: Annotated[Literal["txt", "json"], Query()] = "txt",
) -> Response:
    body = await qa.export(db, project.id, room, session_id, format)
    if format == "json":
        return Response(body, media_type="application/json")
    return PlainTextResponse(body)


@router.delete("/rooms/{room}/questions", status_code=204)
async def delete_room_questions(room: str, project: CurrentProject, db: Session, qa: Qa) -> None:
    await qa.delete_room_questions(db, project.id, room)


@router.patch("/rooms/{room}/questions/{question}", response_model=QuestionOut)
async def update_question(
    room: str, question: str, body: QuestionUpdate, project: CurrentProject, db: Session, qa: Qa
) -> QuestionOut:
    return question_out(
        await qa.update_question(db, project.id, room, question, body.participant, body.question)
    )


@router.delete("/rooms/{room}/questions/{question}", status_code=204)
async def delete_question(
    room: str, question: str, body: ActorBody, project: CurrentProject, db: Session, qa: Qa
) -> None:
    await qa.delete_question(db, project.id, room, question, body.participant)


@router.post("/rooms/{room}/questions/{question}/dismiss", response_model=QuestionOut)
async def dismiss_question(
    room: str, question: str, body: ActorBody, project: CurrentProject, db: Session, qa: Qa
) -> QuestionOut:
    return question_out(await qa.set_status(db, project.id, room, question, body.participant, "dismissed"))


@router.post("/rooms/{room}/questions/{question}/reopen", response_model=QuestionOut)
async def reopen_question(
    room: str, question: str, body: ActorBody, project: CurrentProject, db: Session, qa: Qa
) -> QuestionOut:
    return question_out(await qa.set_status(db, project.id, room, question, body.participant, "open"))


@router.post("/rooms/{room}/questions/{question}/vote", response_model=QuestionOut)
async def vote_question(
    room: str, question: str, body: ActorBody, project: CurrentProject, db: Session, qa: Qa
) -> QuestionOut:
    """Upvote on behalf of a participant: one vote per person (409 ``already_voted``)."""
    return question_out(await qa.vote(db, project.id, room, question, body.participant, True))


@router.delete("/rooms/{room}/questions/{question}/vote", response_model=QuestionOut)
async def unvote_question(
    room: str, question: str, body: ActorBody, project: CurrentProject, db: Session, qa: Qa
) -> QuestionOut:
    return question_out(await qa.vote(db, project.id, room, question, body.participant, False))


@router.post("/rooms/{room}/questions/{question}/answers", response_model=AnswerOut)
async def create_answer(
    room: str, question: str, body: AnswerCreate, project: CurrentProject, db: Session, qa: Qa
) -> AnswerOut:
    """Answer a question; a ``private`` answer reaches only the asker in the meeting."""
    answer = await qa.answer(
        db, project.id, room, question, body.participant, body.answer, private=body.private
    )
    return AnswerOut.model_validate(answer)


@router.patch("/rooms/{room}/questions/{question}/answers/{answer}", response_model=AnswerOut)
async def update_answer(
    room: str, question: str, answer: str, body: AnswerUpdate, project: CurrentProject, db: Session, qa: Qa
) -> AnswerOut:
    updated = await qa.update_answer(db, project.id, room, question, answer, body.participant, body.answer)
    return AnswerOut.model_validate(updated)


@router.delete("/rooms/{room}/questions/{question}/answers/{answer}", status_code=204)
async def delete_answer(
    room: str, question: str, answer: str, body: ActorBody, project: CurrentProject, db: Session, qa: Qa
) -> None:
    await qa.delete_answer(db, project.id, room, question, answer, body.participant)


@router.post("/rooms/{room}/questions/{question}/live-answers/{step}", response_model=QuestionOut)
async def live_answer(
    room: str,
    question: str,
    step: Literal["start", "stop", "cancel"],
    body: ActorBody,
    project: CurrentProject,
    db: Session,
    qa: Qa,
) -> QuestionOut:
    """Someone starts answering out loud (``start``), finishes (``stop``) or gives up (``cancel``)."""
    return question_out(await qa.live_answer(db, project.id, room, question, body.participant, step))


@router.delete("/sessions/{session_id}/questions", status_code=204)
async def delete_session_questions(session_id: str, project: CurrentProject, db: Session, qa: Qa) -> None:
    await qa.delete_session_questions(db, project.id, session_id)


# -- in the meeting --------------------------------------------------------------------------


def _require(context: PeerContext, permission: str | None = None) -> None:
    if not context.settings.get("qa_enabled", False):
        raise Forbidden("this room has qa_enabled off", code="feature_disabled")
    if permission is not None and not context.permissions.get(permission, False):
        raise Forbidden(f"your role ({context.role}) may not do this: {permission}", code="not_allowed")


def public_question(question: dict[str, Any]) -> dict[str, Any]:
    """What everyone in the meeting may see: no author for anonymous questions, no private answers."""
    shown = {**question, "answers": [a for a in question.get("answers", []) if not a["private"]]}
    if shown.get("anonymous"):
        shown.update(participant_id=None, participant_name=None, external_participant_id=None)
    return shown


def register_live(
    realtime: Realtime, qa: QaService, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus
) -> None:
    """Q&A messages on the meeting socket, and ``qa_updated`` pushed after every committed change."""

    async def ask(context: PeerContext, message: AskMessage) -> dict[str, Any]:
        _require(context)
        async with transaction(sessionmaker, bus) as db:
            room = await qa.rooms.get_room(db, context.project_id, context.room_id)
            actor = await qa.participant_actor(db, context.project_id, context.participant_id)
            view = await qa.ask(
                db,
                room,
                actor,
                message.question,
                anonymous=message.anonymous,
                breakout_id=None,
                session_id=context.session_id,
            )
        return {"type": "ok", "question_id": view.question.id}

    async def vote(context: PeerContext, message: VoteMessage) -> dict[str, Any]:
        _require(context)
        async with transaction(sessionmaker, bus) as db:
            question = await qa.question_in_room(db, context.project_id, context.room_id, message.question_id)
            actor = await qa.participant_actor(db, context.project_id, context.participant_id)
            view = await qa.cast_vote(db, question, actor, message.vote)
        return {"type": "ok", "question_id": view.question.id, "votes": view.question.vote_count}

    async def answer(context: PeerContext, message: AnswerMessage) -> dict[str, Any]:
        _require(context, "manage_qa")
        async with transaction(sessionmaker, bus) as db:
            question = await qa.question_in_room(db, context.project_id, context.room_id, message.question_id)
            actor = await qa.participant_actor(db, context.project_id, context.participant_id)
            created = await qa.add_answer(db, question, actor, message.answer, private=message.private)
        return {"type": "ok", "answer_id": created.id}

    async def moderate(context: PeerContext, message: ModerateQuestionMessage) -> dict[str, Any]:
        _require(context)
        async with transaction(sessionmaker, bus) as db:
            question = await qa.question_in_room(db, context.project_id, context.room_id, message.question_id)
            own = question.participant_id == context.participant_id
            if not (context.permissions.get("manage_qa", False) or (own and message.action == "delete")):
                raise Forbidden(f"your role ({context.role}) may not do this: manage_qa", code="not_allowed")
            actor = await qa.participant_actor(db, context.project_id, context.participant_id)
            if message.action == "delete":
                await qa.remove(db, question)
            elif message.action in ("dismiss", "reopen"):
                await qa.change_status(db, question, "dismissed" if message.action == "dismiss" else "open")
            else:
                step: Literal["start", "stop", "cancel"] = message.action.removeprefix("live_")  # type: ignore[assignment]
                await qa.step_live_answer(db, question, actor, step)
        return {"type": "ok", "question_id": message.question_id}

    realtime.register_message("question", AskMessage, ask)
    realtime.register_message("question_vote", VoteMessage, vote)
    realtime.register_message("answer", AnswerMessage, answer)
    realtime.register_message("question_moderate", ModerateQuestionMessage, moderate)

    def qa_message(event: DomainEvent) -> dict[str, Any]:
        """What participants are sent for a Q&A event: live, and replayed to late joiners."""
        data = event.data
        update: dict[str, Any] = {
            "type": "qa_updated",
            "action": event.type,
            "question_id": data["question_id"],
        }
        if "question" in data:
            update["question"] = public_question(data["question"])
            update["change"] = data.get("change", "created")
        if "answer" in data:
            update["answer"] = data["answer"]
        elif "answer_id" in data:
            update["answer_id"] = data["answer_id"]
        return update

    def private_to(event: DomainEvent) -> str | None:
        """A private answer goes to its asker only (and is absent from everyone's public views)."""
        if event.type.startswith("answer.") and event.data.get("private"):
            return str(event.data.get("asker_id") or "")
        return None

    async def fan_out(event: DomainEvent) -> None:
        if event.room_id is None or not event.type.startswith(("question.", "answer.")):
            return
        update = qa_message(event)
        asker = private_to(event)
        if asker is None:
            await realtime.broadcast_to_room(event.room_id, update)
            return
        runtime = realtime.runtimes.get(event.room_id)
        peer = runtime.peers.get(asker) if runtime is not None and asker else None
        if peer is not None:
            await peer.send(update)

    def replay(event: DomainEvent, viewer: str) -> dict[str, Any] | None:
        asker = private_to(event)
        return qa_message(event) if asker is None or asker == viewer else None

    bus.subscribe(fan_out)
    realtime.register_replay("question.", replay)
    realtime.register_replay("answer.", replay)

"""The only code that changes Q&A rows. Meetings learn of changes through ``question.*`` events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.errors import Conflict, NotFound
from conclave.kit.events import DomainEvent, emit
from conclave.kit.pagination import PageParams
from conclave.kit.time import isoformat, utcnow
from conclave.qa.models import Answer, Question, QuestionVote
from conclave.qa.repository import QuestionRepository
from conclave.qa.schemas import ParticipantRef
from conclave.rooms.models import Room
from conclave.rooms.service import RoomService
from conclave.sessions.service import SessionService


@dataclass(frozen=True)
class Actor:
    """Who acts: a participant of the room, or a person the API caller names."""

    participant_id: str | None
    name: str
    external_id: str | None

    @property
    def voter(self) -> str:
        """One vote per person: the external id when known, else the participant."""
        return f"ext:{self.external_id}" if self.external_id else f"pid:{self.participant_id}"


@dataclass(frozen=True)
class QuestionView:
    question: Question
    answers: list[Answer]


def answer_view(answer: Answer) -> dict[str, Any]:
    return {
        "id": answer.id,
        "answer": answer.answer,
        "participant_id": answer.participant_id,
        "participant_name": answer.participant_name,
        "external_participant_id": answer.external_participant_id,
        "private": answer.private,
        "created_at": isoformat(answer.created_at),
        "updated_at": isoformat(answer.updated_at),
    }


def question_view(question: Question, answers: list[Answer]) -> dict[str, Any]:
    live = None
    if question.live_answer_status is not None:
        live = {"status": question.live_answer_status, "participant_name": question.live_answer_by}
    return {
        "id": question.id,
        "question": question.question,
        "participant_id": question.participant_id,
        "participant_name": question.participant_name,
        "external_participant_id": question.external_participant_id,
        "anonymous": question.anonymous,
        "breakout_id": question.breakout_id,
        "session_id": question.session_id,
        "status": question.status,
        "votes": question.vote_count,
        "live_answer": live,
        "answers": [answer_view(a) for a in answers],
        "created_at": isoformat(question.created_at),
        "updated_at": isoformat(question.updated_at),
    }


class QaService:
    def __init__(self, rooms: RoomService, sessions: SessionService) -> None:
        self.rooms = rooms
        self.sessions = sessions

    # -- helpers -----------------------------------------------------------------------------

    async def _actor(self, db: AsyncSession, room: Room, ref: ParticipantRef) -> Actor:
        if ref.id is not None:
            participant = await self.sessions.get_participant(db, room.project_id, ref.id)
            if participant.room_id != room.id:
                raise NotFound(f"participant {ref.id!r} not found in this room", code="participant_not_found")
            return Actor(participant.id, participant.name, participant.external_id)
        assert ref.name is not None
        return Actor(None, ref.name, ref.external_id)

    async def _acting_on(
        self, db: AsyncSession, project_id: str, room_ref: str, ref: ParticipantRef, question_id: str
    ) -> tuple[Actor, Question]:
        """A REST call's actor and the question it acts on, both checked against the room."""
        room = await self.rooms.get_room(db, project_id, room_ref)
        actor = await self._actor(db, room, ref)
        return actor, await self._question(db, room, question_id)

    async def participant_actor(self, db: AsyncSession, project_id: str, participant_id: str) -> Actor:
        participant = await self.sessions.get_participant(db, project_id, participant_id)
        return Actor(participant.id, participant.name, participant.external_id)

    async def _question(self, db: AsyncSession, room: Room, question_id: str) -> Question:
        question = await QuestionRepository(db, room.project_id).get(question_id, room_id=room.id)
        if question is None:
            raise NotFound(f"question {question_id!r} not found", code="question_not_found")
        return question

    async def _view(self, db: AsyncSession, question: Question) -> QuestionView:
        answers = await QuestionRepository(db, question.project_id).answers_for([question.id])
        return QuestionView(question, answers)

    def _emit(self, db: AsyncSession, kind: str, subject: Question, **extra: Any) -> None:
        emit(
            db,
            DomainEvent(
                type=kind,
                project_id=subject.project_id,
                room_id=subject.room_id,
                session_id=subject.session_id,
                data={
                    "room_id": subject.room_id,
                    "session_id": subject.session_id,
                    "question_id": subject.id,
                    **extra,
                },
            ),
        )

    async def _changed(self, db: AsyncSession, question: Question, change: str) -> QuestionView:
        question.updated_at = utcnow()
        await db.flush()
        view = await self._view(db, question)
        self._emit(db, "question.updated", question, change=change, question=question_view(*_pair(view)))
        return view

    # -- questions ---------------------------------------------------------------------------

    async def ask(
        self,
        db: AsyncSession,
        room: Room,
        actor: Actor,
        text: str,
        *,
        anonymous: bool,
        breakout_id: str | None,
        session_id: str | None = None,
    ) -> QuestionView:
        if session_id is None:
            live = await self.sessions.live_session(db, room.project_id, room.id)
            session_id = live.id if live else None
        question = Question(
            project_id=room.project_id,
            room_id=room.id,
            session_id=session_id,
            participant_id=actor.participant_id,
            participant_name=actor.name,
            external_participant_id=actor.external_id,
            anonymous=anonymous,
            breakout_id=breakout_id,
            question=text,
        )
        db.add(question)
        await db.flush()
        self._emit(db, "question.created", question, question=question_view(question, []))
        return QuestionView(question, [])

    async def create_question(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        ref: ParticipantRef,
        text: str,
        *,
        anonymous: bool,
        breakout_id: str | None,
    ) -> QuestionView:
        """Asked over the API: lands in the room's live session when there is one."""
        room = await self.rooms.get_room(db, project_id, room_ref)
        return await self.ask(
            db, room, await self._actor(db, room, ref), text, anonymous=anonymous, breakout_id=breakout_id
        )

    async def list_questions(
        self, db: AsyncSession, project_id: str, room_ref: str, params: PageParams, session_id: str | None
    ) -> tuple[list[QuestionView], int]:
        room = await self.rooms.get_room(db, project_id, room_ref)
        repository = QuestionRepository(db, project_id)
        cursor = None
        if params.after:
            cursor = await repository.get(params.after, room_id=room.id)
            if cursor is None:
                raise NotFound(
                    f"question {params.after!r} given as 'after' not found", code="question_not_found"
                )
        rows, total = await repository.page(params, room_id=room.id, session_id=session_id, cursor=cursor)
        return await self._with_answers(repository, rows), total

    @staticmethod
    async def _with_answers(repository: QuestionRepository, rows: list[Question]) -> list[QuestionView]:
        answers = await repository.answers_for([q.id for q in rows])
        by_question: dict[str, list[Answer]] = {}
        for answer in answers:
            by_question.setdefault(answer.question_id, []).append(answer)
        return [QuestionView(q, by_question.get(q.id, [])) for q in rows]

    async def update_question(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        question_id: str,
        ref: ParticipantRef,
        text: str,
    ) -> QuestionView:
        _, question = await self._acting_on(db, project_id, room_ref, ref, question_id)
        question.question = text
        return await self._changed(db, question, "edited")

    async def delete_question(
        self, db: AsyncSession, project_id: str, room_ref: str, question_id: str, ref: ParticipantRef
    ) -> None:
        _, question = await self._acting_on(db, project_id, room_ref, ref, question_id)
        await self.remove(db, question)

    async def remove(self, db: AsyncSession, question: Question) -> None:
        self._emit(db, "question.deleted", question)
        await db.delete(question)
        await db.flush()

    async def set_status(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        question_id: str,
        ref: ParticipantRef,
        status: Literal["open", "dismissed"],
    ) -> QuestionView:
        _, question = await self._acting_on(db, project_id, room_ref, ref, question_id)
        return await self.change_status(db, question, status)

    async def change_status(
        self, db: AsyncSession, question: Question, status: Literal["open", "dismissed"]
    ) -> QuestionView:
        if question.status == status:
            raise Conflict(f"the question is already {status}", code=f"question_already_{status}")
        question.status = status
        return await self._changed(db, question, "dismissed" if status == "dismissed" else "reopened")

    # -- votes -------------------------------------------------------------------------------

    async def vote(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        question_id: str,
        ref: ParticipantRef,
        up: bool,
    ) -> QuestionView:
        actor, question = await self._acting_on(db, project_id, room_ref, ref, question_id)
        return await self.cast_vote(db, question, actor, up)

    async def cast_vote(self, db: AsyncSession, question: Question, actor: Actor, up: bool) -> QuestionView:
        """One vote per person and question: voting twice is a conflict, unvoting nothing a 404."""
        repository = QuestionRepository(db, question.project_id)
        existing = await repository.vote(question.id, actor.voter)
        if up:
            if existing is not None:
                raise Conflict("this participant already voted for the question", code="already_voted")
            db.add(
                QuestionVote(question_id=question.id, voter=actor.voter, participant_id=actor.participant_id)
            )
            question.vote_count += 1
        else:
            if existing is None:
                raise NotFound("this participant has not voted for the question", code="vote_not_found")
            await db.delete(existing)
            question.vote_count -= 1
        return await self._changed(db, question, "voted" if up else "unvoted")

    # -- answers -----------------------------------------------------------------------------

    async def answer(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        question_id: str,
        ref: ParticipantRef,
        text: str,
        *,
        private: bool,
    ) -> Answer:
        actor, question = await self._acting_on(db, project_id, room_ref, ref, question_id)
        return await self.add_answer(db, question, actor, text, private=private)

    async def add_answer(
        self, db: AsyncSession, question: Question, actor: Actor, text: str, *, private: bool
    ) -> Answer:
        answer = Answer(
            project_id=question.project_id,
            question_id=question.id,
            participant_id=actor.participant_id,
            participant_name=actor.name,
            external_participant_id=actor.external_id,
            answer=text,
            private=private,
        )
        db.add(answer)
        await db.flush()
        self._emit(
            db,
            "answer.created",
            question,
            answer_id=answer.id,
            private=private,
            asker_id=question.participant_id,
            answer=answer_view(answer),
        )
        return answer

    async def _answer(self, db: AsyncSession, question: Question, answer_id: str) -> Answer:
        found = await QuestionRepository(db, question.project_id).answer(question.id, answer_id)
        if found is None:
            raise NotFound(f"answer {answer_id!r} not found", code="answer_not_found")
        return found

    async def update_answer(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        question_id: str,
        answer_id: str,
        ref: ParticipantRef,
        text: str,
    ) -> Answer:
        _, question = await self._acting_on(db, project_id, room_ref, ref, question_id)
        answer = await self._answer(db, question, answer_id)
        answer.answer = text
        answer.updated_at = utcnow()
        await db.flush()
        self._emit(
            db,
            "answer.updated",
            question,
            answer_id=answer.id,
            private=answer.private,
            asker_id=question.participant_id,
            answer=answer_view(answer),
        )
        return answer

    async def delete_answer(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        question_id: str,
        answer_id: str,
        ref: ParticipantRef,
    ) -> None:
        _, question = await self._acting_on(db, project_id, room_ref, ref, question_id)
        answer = await self._answer(db, question, answer_id)
        self._emit(db, "answer.deleted", question, answer_id=answer.id, private=answer.private)
        await db.delete(answer)
        await db.flush()

    # -- live answers ------------------------------------------------------------------------

    async def live_answer(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        question_id: str,
        ref: ParticipantRef,
        step: Literal["start", "stop", "cancel"],
    ) -> QuestionView:
        actor, question = await self._acting_on(db, project_id, room_ref, ref, question_id)
        return await self.step_live_answer(db, question, actor, step)

    async def step_live_answer(
        self, db: AsyncSession, question: Question, actor: Actor, step: Literal["start", "stop", "cancel"]
    ) -> QuestionView:
        """start → someone answers out loud now; stop → done (answered live); cancel → never mind."""
        live = question.live_answer_status == "started"
        if step == "start":
            if live:
                raise Conflict("a live answer is already in progress", code="live_answer_in_progress")
            question.live_answer_status, question.live_answer_by = "started", actor.name
        elif not live:
            raise Conflict("no live answer is in progress", code="no_live_answer")
        elif step == "stop":
            question.live_answer_status = "answered"
        else:
            question.live_answer_status, question.live_answer_by = None, None
        return await self._changed(db, question, f"live_answer_{step}")

    # -- room and session level --------------------------------------------------------------

    async def question_in_room(
        self, db: AsyncSession, project_id: str, room_id: str, question_id: str
    ) -> Question:
        question = await QuestionRepository(db, project_id).get(question_id, room_id=room_id)
        if question is None:
            raise NotFound(f"question {question_id!r} not found", code="question_not_found")
        return question

    async def export(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        session_id: str | None,
        fmt: Literal["txt", "json"],
    ) -> str:
        room = await self.rooms.get_room(db, project_id, room_ref)
        repository = QuestionRepository(db, project_id)
        views = await self._with_answers(repository, await repository.all_for_room(room.id, session_id))
        if fmt == "json":
            return json.dumps([question_view(*_pair(v)) for v in views], ensure_ascii=False, indent=2)
        lines: list[str] = []
        for view in views:
            q = view.question
            asker = "Anonymous" if q.anonymous else (q.participant_name or "unknown")
            flag = " (dismissed)" if q.status == "dismissed" else ""
            lines.append(f"[{isoformat(q.created_at)}] Q ({q.vote_count} votes){flag} {asker}: {q.question}")
            for a in view.answers:
                private = " (private)" if a.private else ""
                lines.append(f"    A{private} {a.participant_name or 'unknown'}: {a.answer}")
        return "".join(f"{line}\n" for line in lines)

    async def delete_room_questions(self, db: AsyncSession, project_id: str, room_ref: str) -> int:
        room = await self.rooms.get_room(db, project_id, room_ref)
        return await QuestionRepository(db, project_id).delete_where(room_id=room.id)

    async def delete_session_questions(self, db: AsyncSession, project_id: str, session_id: str) -> int:
        session = await self.sessions.get_session(db, project_id, session_id)
        return await QuestionRepository(db, project_id).delete_where(session_id=session.id)


def _pair(view: QuestionView) -> tuple[Question, list[Answer]]:
    return view.question, view.answers

"""The only code that changes quiz rows. Runs are timed here, on the server, not in the browser."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.errors import Conflict, NotFound, ValidationFailed
from conclave.kit.events import DomainEvent, emit
from conclave.kit.ids import new_id
from conclave.kit.jobs import JobQueue
from conclave.kit.pagination import PageParams
from conclave.kit.time import isoformat, utcnow
from conclave.kit.uploads import read_upload
from conclave.quizzes.models import Quiz, QuizChoice, QuizQuestion, QuizResponse, QuizRun
from conclave.quizzes.repository import QuizRepository
from conclave.quizzes.schemas import ChoiceIn, QuestionIn, QuizCreate, QuizUpdate
from conclave.rooms.models import Room
from conclave.rooms.service import RoomService
from conclave.sessions.service import SessionService

END_JOB = "quiz.end"
TEMPLATE = (
    "quiz,time_limit_minutes,question,multiple,correct,choice_1,choice_2,choice_3,choice_4\r\n"
    "My quiz,45,Question #1,false,1,Correct answer,Wrong answer,,\r\n"
    "My quiz,,Question #2 (multiple choice),true,1;3,Correct answer #1,Wrong answer,Correct answer #2,\r\n"
)


@dataclass
class QuizView:
    quiz: Quiz
    questions: list[QuizQuestion]
    choices: dict[str, list[QuizChoice]] = field(default_factory=dict)


@dataclass(frozen=True)
class NewQuiz:
    title: str
    time_limit_seconds: int | None
    timing_mode: str | None
    questions: list[QuestionIn]


def quiz_view(view: QuizView, *, reveal: bool = True) -> dict[str, Any]:
    """The full quiz; ``reveal=False`` leaves out which choices are correct (what participants see)."""
    quiz = view.quiz
    seconds = quiz.time_limit_seconds
    return {
        "id": quiz.id,
        "title": quiz.title,
        "time_limit_minutes": seconds // 60 if seconds is not None and seconds % 60 == 0 else None,
        "time_limit_seconds": seconds,
        "timing_mode": quiz.timing_mode,
        "status": quiz.status,
        "created_at": isoformat(quiz.created_at),
        "updated_at": isoformat(quiz.updated_at),
        "questions": [
            {
                "id": q.id,
                "text": q.text,
                "multiple": q.multiple,
                "choices": [
                    {"id": c.id, "text": c.text, **({"correct": c.correct} if reveal else {})}
                    for c in view.choices.get(q.id, [])
                ],
            }
            for q in view.questions
        ],
    }


def run_results(view: QuizView, run: QuizRun, responses: list[QuizResponse]) -> dict[str, Any]:
    """The reference's result shape for one run (one session), plus each choice's ``correct``."""
    questions = []
    for question in view.questions:
        answered = [r for r in responses if r.question_id == question.id]
        votes = []
        for choice in view.choices.get(question.id, []):
            chose = [r for r in answered if choice.id in r.choice_ids]
            votes.append(
                {
                    "id": choice.id,
                    "text": choice.text,
                    "correct": choice.correct,
                    "voted": len(chose),
                    "voters": [{"id": r.participant_id, "name": r.participant_name} for r in chose],
                }
            )
        questions.append(
            {"id": question.id, "question": question.text, "voted": len(answered), "votes": votes}
        )
    return {
        "id": view.quiz.id,
        "run_id": run.id,
        "session_id": run.session_id,
        "title": view.quiz.title,
        "status": run.status,
        "started": isoformat(run.started_at),
        "ended": isoformat(run.ended_at),
        "deadline": isoformat(run.deadline_at),
        "questions": questions,
    }


def _check_question(text: str, multiple: bool, choices: list[tuple[str, bool]], where: str) -> None:
    if len(choices) < 2:
        raise ValidationFailed(f"{where}: a question needs at least 2 choices", code="invalid_question")
    correct = sum(1 for _, ok in choices if ok)
    if correct == 0:
        raise ValidationFailed(f"{where}: mark at least one choice correct", code="invalid_question")
    if not multiple and correct != 1:
        raise ValidationFailed(
            f"{where}: a single choice question has exactly one correct choice", code="invalid_question"
        )


def _limit(minutes: int | None, seconds: int | None) -> int | None:
    return minutes * 60 if minutes is not None else seconds


def parse_quiz_rows(rows: list[tuple[int, list[str]]]) -> list[NewQuiz]:
    """Consecutive rows with the same quiz title form one quiz; every bad row is reported by line."""
    quizzes: list[tuple[str, int | None, list[QuestionIn]]] = []
    errors: list[dict[str, Any]] = []
    for index, (line, row) in enumerate(rows):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if index == 0 and cells[0].lower() == "quiz":
            continue
        title, minutes, text, multiple, correct = [*cells, "", "", "", "", ""][:5]
        labels = [c for c in cells[5:] if c]
        try:
            if not 1 <= len(title) <= 512 or not 1 <= len(text) <= 512:
                raise ValueError("quiz and question must be 1-512 characters")
            limit = None
            if minutes:
                if not minutes.isdigit() or not 1 <= int(minutes) <= 1440:
                    raise ValueError("time_limit_minutes must be a whole number from 1 to 1440")
                limit = int(minutes) * 60
            if multiple.lower() not in ("true", "false", "yes", "no", "1", "0", ""):
                raise ValueError(f"multiple must be true or false, not {multiple!r}")
            is_multiple = multiple.lower() in ("true", "yes", "1")
            numbers = [n.strip() for n in correct.replace("|", ";").split(";") if n.strip()]
            if not numbers or not all(n.isdigit() and 1 <= int(n) <= len(labels) for n in numbers):
                raise ValueError("correct must list choice numbers (1-based, separated by ';')")
            marked = {int(n) for n in numbers}
            choices = [
                ChoiceIn(text=label[:512], correct=n in marked) for n, label in enumerate(labels, start=1)
            ]
            _check_question(text, is_multiple, [(c.text, c.correct) for c in choices], f"line {line}")
            question = QuestionIn(text=text, multiple=is_multiple, choices=choices)
        except (ValueError, ValidationFailed) as exc:
            message = exc.message if isinstance(exc, ValidationFailed) else str(exc)
            errors.append({"line": line, "message": message.removeprefix(f"line {line}: ")})
            continue
        if quizzes and quizzes[-1][0] == title:
            if limit is not None and quizzes[-1][1] not in (None, limit):
                errors.append({"line": line, "message": "a different time limit for the same quiz"})
                continue
            if limit is not None:
                quizzes[-1] = (title, limit, quizzes[-1][2])
            quizzes[-1][2].append(question)
        else:
            quizzes.append((title, limit, [question]))
    if errors:
        raise ValidationFailed(
            f"{len(errors)} row(s) are invalid; nothing was imported", code="invalid_rows", details=errors
        )
    if not quizzes:
        raise ValidationFailed("the file contains no quizzes", code="empty_import")
    return [NewQuiz(title, limit, None, questions) for title, limit, questions in quizzes]


class QuizService:
    def __init__(self, rooms: RoomService, sessions: SessionService, jobs: JobQueue) -> None:
        self.rooms = rooms
        self.sessions = sessions
        self.jobs = jobs

    def _emit(self, db: AsyncSession, kind: str, subject: Quiz, session_id: str | None, **extra: Any) -> None:
        emit(
            db,
            DomainEvent(
                type=kind,
                project_id=subject.project_id,
                room_id=subject.room_id,
                session_id=session_id,
                data={"room_id": subject.room_id, "session_id": session_id, "quiz_id": subject.id, **extra},
            ),
        )

    async def _view(self, db: AsyncSession, quiz: Quiz) -> QuizView:
        repository = QuizRepository(db, quiz.project_id)
        questions = await repository.questions(quiz.id)
        view = QuizView(quiz, questions)
        for choice in await repository.choices([q.id for q in questions]):
            view.choices.setdefault(choice.question_id, []).append(choice)
        return view

    async def _quiz(self, db: AsyncSession, room: Room, quiz_id: str) -> Quiz:
        quiz = await QuizRepository(db, room.project_id).get(quiz_id, room_id=room.id)
        if quiz is None:
            raise NotFound(f"quiz {quiz_id!r} not found", code="quiz_not_found")
        return quiz

    async def quiz_in_room(self, db: AsyncSession, project_id: str, room_id: str, quiz_id: str) -> Quiz:
        quiz = await QuizRepository(db, project_id).get(quiz_id, room_id=room_id)
        if quiz is None:
            raise NotFound(f"quiz {quiz_id!r} not found", code="quiz_not_found")
        return quiz

    # -- definitions -------------------------------------------------------------------------

    async def _add_question(self, db: AsyncSession, quiz: Quiz, position: int, data: QuestionIn) -> None:
        where = f"question {position + 1}"
        _check_question(data.text, data.multiple, [(c.text, c.correct) for c in data.choices], where)
        question = QuizQuestion(
            id=new_id(), quiz_id=quiz.id, position=position, text=data.text, multiple=data.multiple
        )
        db.add(question)
        # No ORM relationships: flush the parent first so the choices' foreign keys hold.
        await db.flush()
        db.add_all(
            QuizChoice(question_id=question.id, position=n, text=c.text, correct=c.correct)
            for n, c in enumerate(data.choices)
        )

    async def _add(self, db: AsyncSession, room: Room, new: NewQuiz) -> QuizView:
        quiz = Quiz(
            project_id=room.project_id,
            room_id=room.id,
            title=new.title,
            time_limit_seconds=new.time_limit_seconds,
            timing_mode=new.timing_mode,
        )
        db.add(quiz)
        await db.flush()
        for position, question in enumerate(new.questions):
            await self._add_question(db, quiz, position, question)
        await db.flush()
        view = await self._view(db, quiz)
        self._emit(db, "quiz.created", quiz, None)
        return view

    async def create(self, db: AsyncSession, project_id: str, room_ref: str, data: QuizCreate) -> QuizView:
        room = await self.rooms.get_room(db, project_id, room_ref)
        limit = _limit(data.time_limit_minutes, data.time_limit_seconds)
        return await self._add(db, room, NewQuiz(data.title, limit, data.timing_mode, data.questions))

    async def import_quizzes(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        data: bytes,
        filename: str | None,
        kind: str | None,
    ) -> list[QuizView]:
        room = await self.rooms.get_room(db, project_id, room_ref)
        return [await self._add(db, room, new) for new in parse_quiz_rows(read_upload(data, filename, kind))]

    async def update(
        self, db: AsyncSession, project_id: str, room_ref: str, quiz_id: str, data: QuizUpdate
    ) -> QuizView:
        room = await self.rooms.get_room(db, project_id, room_ref)
        quiz = await self._quiz(db, room, quiz_id)
        if quiz.status == "launched":
            raise Conflict("the quiz is running; end it before editing", code="quiz_launched")
        sent = data.model_fields_set
        if data.title is not None:
            quiz.title = data.title
        if sent & {"time_limit_minutes", "time_limit_seconds"}:
            quiz.time_limit_seconds = _limit(data.time_limit_minutes, data.time_limit_seconds)
        if "timing_mode" in sent:
            quiz.timing_mode = data.timing_mode
        view = await self._view(db, quiz)
        by_id = {q.id: q for q in view.questions}
        position = len(view.questions)
        for number, item in enumerate(data.questions or [], start=1):
            if item.id is None:
                await self._add_question(db, quiz, position, item)
                position += 1
                continue
            question = by_id.get(item.id)
            if question is None:
                raise NotFound(f"question {item.id!r} is not in this quiz", code="question_not_found")
            question.text, question.multiple = item.text, item.multiple
            existing = {c.id: c for c in view.choices.get(question.id, [])}
            for n, choice in enumerate(item.choices):
                if choice.id is None:
                    created = QuizChoice(
                        question_id=question.id,
                        position=len(existing) + n,
                        text=choice.text,
                        correct=choice.correct,
                    )
                    db.add(created)
                    view.choices.setdefault(question.id, []).append(created)
                    continue
                found = existing.get(choice.id)
                if found is None:
                    raise NotFound(
                        f"choice {choice.id!r} is not in question {item.id!r}", code="choice_not_found"
                    )
                found.text, found.correct = choice.text, choice.correct
            resulting = [(c.text, c.correct) for c in view.choices.get(question.id, [])]
            _check_question(question.text, question.multiple, resulting, f"question {number}")
        quiz.updated_at = utcnow()
        await db.flush()
        return await self._view(db, quiz)

    async def list_quizzes(
        self, db: AsyncSession, project_id: str, room_ref: str, params: PageParams
    ) -> tuple[list[Quiz], int]:
        room = await self.rooms.get_room(db, project_id, room_ref)
        repository = QuizRepository(db, project_id)
        cursor = None
        if params.after:
            cursor = await repository.get(params.after, room_id=room.id)
            if cursor is None:
                raise NotFound(f"quiz {params.after!r} given as 'after' not found", code="quiz_not_found")
        return await repository.page(params, room_id=room.id, cursor=cursor)

    async def get_quiz(self, db: AsyncSession, project_id: str, room_ref: str, quiz_id: str) -> QuizView:
        room = await self.rooms.get_room(db, project_id, room_ref)
        return await self._view(db, await self._quiz(db, room, quiz_id))

    async def delete_quiz(self, db: AsyncSession, project_id: str, room_ref: str, quiz_id: str) -> None:
        room = await self.rooms.get_room(db, project_id, room_ref)
        quiz = await self._quiz(db, room, quiz_id)
        self._emit(db, "quiz.deleted", quiz, None)
        await db.delete(quiz)
        await db.flush()

    async def delete_room_quizzes(self, db: AsyncSession, project_id: str, room_ref: str) -> int:
        room = await self.rooms.get_room(db, project_id, room_ref)
        return await QuizRepository(db, project_id).delete_room(room.id)

    async def delete_session_quizzes(self, db: AsyncSession, project_id: str, session_id: str) -> int:
        """A quiz is a reusable definition; what belongs to a session is its run there and the answers."""
        session = await self.sessions.get_session(db, project_id, session_id)
        return await QuizRepository(db, project_id).delete_session_runs(session.id)

    # -- runs --------------------------------------------------------------------------------

    async def launch(self, db: AsyncSession, project_id: str, room_ref: str, quiz_id: str) -> dict[str, Any]:
        room = await self.rooms.get_room(db, project_id, room_ref)
        return await self.start(db, await self._quiz(db, room, quiz_id))

    async def start(self, db: AsyncSession, quiz: Quiz) -> dict[str, Any]:
        """Run the quiz in the room's live session; a durable job ends it at the deadline."""
        live = await self.sessions.live_session(db, quiz.project_id, quiz.room_id)
        if live is None:
            raise Conflict("the room has no live session to run the quiz in", code="no_live_session")
        if await QuizRepository(db, quiz.project_id).live_run(quiz.id) is not None:
            raise Conflict("the quiz is already running", code="quiz_launched")
        view = await self._view(db, quiz)
        now = utcnow()
        deadline = None
        if quiz.time_limit_seconds is not None:
            windows = len(view.questions) if quiz.timing_mode == "question" else 1
            deadline = now + timedelta(seconds=quiz.time_limit_seconds * windows)
        run = QuizRun(
            project_id=quiz.project_id,
            quiz_id=quiz.id,
            room_id=quiz.room_id,
            session_id=live.id,
            started_at=now,
            deadline_at=deadline,
        )
        db.add(run)
        quiz.status = "launched"
        await db.flush()
        if deadline is not None:
            await self.jobs.enqueue(
                db, END_JOB, {"project_id": quiz.project_id, "run_id": run.id}, run_at=deadline
            )
        result = run_results(view, run, [])
        self._emit(
            db,
            "quiz.started",
            quiz,
            live.id,
            run_id=run.id,
            deadline=isoformat(deadline),
            quiz=quiz_view(view, reveal=False),
        )
        return result

    async def end(self, db: AsyncSession, project_id: str, room_ref: str, quiz_id: str) -> dict[str, Any]:
        room = await self.rooms.get_room(db, project_id, room_ref)
        return await self.stop(db, await self._quiz(db, room, quiz_id))

    async def stop(self, db: AsyncSession, quiz: Quiz) -> dict[str, Any]:
        run = await QuizRepository(db, quiz.project_id).live_run(quiz.id)
        if run is None:
            raise Conflict("the quiz is not running", code="quiz_not_launched")
        return await self._finish(db, quiz, run)

    async def _finish(self, db: AsyncSession, quiz: Quiz, run: QuizRun) -> dict[str, Any]:
        run.status, run.ended_at = "ended", utcnow()
        if run.deadline_at is not None:
            run.ended_at = min(run.ended_at, run.deadline_at)
        quiz.status = "ended"
        await db.flush()
        view = await self._view(db, quiz)
        results = run_results(view, run, await QuizRepository(db, quiz.project_id).responses([run.id]))
        self._emit(db, "quiz.ended", quiz, run.session_id, run_id=run.id, results=results)
        return results

    async def end_run(self, db: AsyncSession, project_id: str, run_id: str) -> bool:
        """The deadline job: end the run unless someone ended it already."""
        repository = QuizRepository(db, project_id)
        run = await repository.run(run_id)
        if run is None or run.status != "launched":
            return False
        quiz = await repository.get(run.quiz_id)
        assert quiz is not None
        await self._finish(db, quiz, run)
        return True

    async def answer(
        self,
        db: AsyncSession,
        quiz: Quiz,
        *,
        participant_id: str,
        session_id: str | None,
        question_id: str,
        choice_ids: list[str],
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Record one participant's answer to one question, inside the run's time window only."""
        repository = QuizRepository(db, quiz.project_id)
        run = await repository.live_run(quiz.id)
        if run is None or run.session_id != session_id:
            raise Conflict("the quiz is not running in your session", code="quiz_not_launched")
        now = now or utcnow()
        if run.deadline_at is not None and now >= run.deadline_at:
            raise Conflict("time is up for this quiz", code="quiz_time_over")
        view = await self._view(db, quiz)
        index = next((n for n, q in enumerate(view.questions) if q.id == question_id), None)
        if index is None:
            raise NotFound(f"question {question_id!r} is not in this quiz", code="question_not_found")
        if quiz.timing_mode == "question" and quiz.time_limit_seconds is not None:
            opens = run.started_at + timedelta(seconds=quiz.time_limit_seconds * index)
            closes = opens + timedelta(seconds=quiz.time_limit_seconds)
            if not opens <= now < closes:
                raise Conflict("this question is not open now", code="question_not_open")
        question = view.questions[index]
        valid = {c.id for c in view.choices.get(question.id, [])}
        chosen = list(dict.fromkeys(choice_ids))
        if not set(chosen) <= valid or (not question.multiple and len(chosen) != 1):
            raise ValidationFailed("choose choices of this question", code="invalid_answer")
        if await repository.response(run.id, question.id, participant_id) is not None:
            raise Conflict("you already answered this question", code="already_answered")
        participant = await self.sessions.get_participant(db, quiz.project_id, participant_id)
        db.add(
            QuizResponse(
                run_id=run.id,
                question_id=question.id,
                participant_id=participant.id,
                participant_name=participant.name,
                choice_ids=chosen,
            )
        )
        await db.flush()
        self._emit(
            db,
            "quiz.answered",
            quiz,
            run.session_id,
            run_id=run.id,
            question_id=question.id,
            participant_id=participant.id,
        )
        return {"quiz_id": quiz.id, "run_id": run.id, "question_id": question.id}

    # -- results -----------------------------------------------------------------------------

    async def _results(self, db: AsyncSession, quiz: Quiz, session_id: str | None) -> list[dict[str, Any]]:
        repository = QuizRepository(db, quiz.project_id)
        runs = await repository.runs(quiz.id, session_id)
        view = await self._view(db, quiz)
        responses = await repository.responses([r.id for r in runs])
        return [run_results(view, run, [x for x in responses if x.run_id == run.id]) for run in runs]

    async def results(
        self, db: AsyncSession, project_id: str, room_ref: str, quiz_id: str, session_id: str | None
    ) -> list[dict[str, Any]]:
        room = await self.rooms.get_room(db, project_id, room_ref)
        return await self._results(db, await self._quiz(db, room, quiz_id), session_id)

    async def export(
        self, db: AsyncSession, project_id: str, room_ref: str, fmt: Literal["csv", "txt", "json"]
    ) -> str:
        """Results of every run of every quiz of the room."""
        room = await self.rooms.get_room(db, project_id, room_ref)
        results: list[dict[str, Any]] = []
        for quiz in await QuizRepository(db, project_id).for_room(room.id):
            results.extend(await self._results(db, quiz, None))
        if fmt == "json":
            return json.dumps(results, ensure_ascii=False, indent=2)
        if fmt == "csv":
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(
                [
                    "quiz_id",
                    "title",
                    "session_id",
                    "started",
                    "question",
                    "choice",
                    "correct",
                    "voted",
                    "voters",
                ]
            )
            for result in results:
                for question in result["questions"]:
                    for vote in question["votes"]:
                        writer.writerow(
                            [
                                result["id"],
                                result["title"],
                                result["session_id"],
                                result["started"],
                                question["question"],
                                vote["text"],
                                "true" if vote["correct"] else "false",
                                vote["voted"],
                                "; ".join(v["name"] or "" for v in vote["voters"]),
                            ]
                        )
            return out.getvalue()
        lines = []
        for result in results:
            span = f"{result['started']} to {result['ended']}"
            lines.append(f"{result['title']} — session {result['session_id']} ({span})")
            for question in result["questions"]:
                lines.append(f"  {question['question']} ({question['voted']} answered)")
                for vote in question["votes"]:
                    mark = "*" if vote["correct"] else " "
                    lines.append(f"    [{mark}] {vote['text']}: {vote['voted']}")
        return "".join(f"{line}\n" for line in lines)

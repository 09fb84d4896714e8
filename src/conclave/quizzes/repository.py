"""Every query of the quizzes domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from conclave.kit.pagination import PageParams
from conclave.kit.repository import ProjectScopedRepository
from conclave.quizzes.models import Quiz, QuizChoice, QuizQuestion, QuizResponse, QuizRun


class QuizRepository(ProjectScopedRepository[Quiz]):
    model = Quiz

    async def get(self, quiz_id: str, *, room_id: str | None = None) -> Quiz | None:
        statement = self.scoped().where(Quiz.id == quiz_id)
        if room_id is not None:
            statement = statement.where(Quiz.room_id == room_id)
        found: Quiz | None = (await self.session.execute(statement)).scalar_one_or_none()
        return found

    async def page(self, params: PageParams, *, room_id: str, cursor: Quiz | None) -> tuple[list[Quiz], int]:
        return await self.paginate(self.scoped().where(Quiz.room_id == room_id), params, cursor)

    async def for_room(self, room_id: str) -> list[Quiz]:
        statement = self.scoped().where(Quiz.room_id == room_id).order_by(Quiz.created_at, Quiz.id)
        return list((await self.session.execute(statement)).scalars().all())

    async def questions(self, quiz_id: str) -> list[QuizQuestion]:
        statement = (
            select(QuizQuestion).where(QuizQuestion.quiz_id == quiz_id).order_by(QuizQuestion.position)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def choices(self, question_ids: Sequence[str]) -> list[QuizChoice]:
        if not question_ids:
            return []
        statement = (
            select(QuizChoice)
            .where(QuizChoice.question_id.in_(question_ids))
            .order_by(QuizChoice.question_id, QuizChoice.position)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def runs(self, quiz_id: str, session_id: str | None = None) -> list[QuizRun]:
        statement = select(QuizRun).where(QuizRun.project_id == self.project_id, QuizRun.quiz_id == quiz_id)
        if session_id is not None:
            statement = statement.where(QuizRun.session_id == session_id)
        statement = statement.order_by(QuizRun.started_at, QuizRun.id)
        return list((await self.session.execute(statement)).scalars().all())

    async def run(self, run_id: str) -> QuizRun | None:
        statement = select(QuizRun).where(QuizRun.project_id == self.project_id, QuizRun.id == run_id)
        found: QuizRun | None = (await self.session.execute(statement)).scalar_one_or_none()
        return found

    async def live_run(self, quiz_id: str) -> QuizRun | None:
        statement = select(QuizRun).where(
            QuizRun.project_id == self.project_id, QuizRun.quiz_id == quiz_id, QuizRun.status == "launched"
        )
        found: QuizRun | None = (await self.session.execute(statement)).scalars().first()
        return found

    async def responses(self, run_ids: Sequence[str]) -> list[QuizResponse]:
        if not run_ids:
            return []
        statement = (
            select(QuizResponse)
            .where(QuizResponse.run_id.in_(run_ids))
            .order_by(QuizResponse.created_at, QuizResponse.id)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def response(self, run_id: str, question_id: str, participant_id: str) -> QuizResponse | None:
        statement = select(QuizResponse).where(
            QuizResponse.run_id == run_id,
            QuizResponse.question_id == question_id,
            QuizResponse.participant_id == participant_id,
        )
        found: QuizResponse | None = (await self.session.execute(statement)).scalar_one_or_none()
        return found

    async def delete_room(self, room_id: str) -> int:
        result = await self.session.execute(
            delete(Quiz).where(Quiz.project_id == self.project_id, Quiz.room_id == room_id)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def delete_session_runs(self, session_id: str) -> int:
        result = await self.session.execute(
            delete(QuizRun).where(QuizRun.project_id == self.project_id, QuizRun.session_id == session_id)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

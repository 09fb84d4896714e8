"""Every query of the Q&A domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from conclave.kit.pagination import PageParams
from conclave.kit.repository import ProjectScopedRepository
from conclave.qa.models import Answer, Question, QuestionVote


class QuestionRepository(ProjectScopedRepository[Question]):
    model = Question

    async def get(self, question_id: str, *, room_id: str | None = None) -> Question | None:
        statement = self.scoped().where(Question.id == question_id)
        if room_id is not None:
            statement = statement.where(Question.room_id == room_id)
        found: Question | None = (await self.session.execute(statement)).scalar_one_or_none()
        return found

    async def page(
        self, params: PageParams, *, room_id: str, session_id: str | None, cursor: Question | None
    ) -> tuple[list[Question], int]:
        statement = self.scoped().where(Question.room_id == room_id)
        if session_id is not None:
            statement = statement.where(Question.session_id == session_id)
        return await self.paginate(statement, params, cursor)

    async def all_for_room(self, room_id: str, session_id: str | None) -> list[Question]:
        statement = self.scoped().where(Question.room_id == room_id)
        if session_id is not None:
            statement = statement.where(Question.session_id == session_id)
        statement = statement.order_by(Question.created_at, Question.id)
        return list((await self.session.execute(statement)).scalars().all())

    async def answers_for(self, question_ids: Sequence[str]) -> list[Answer]:
        if not question_ids:
            return []
        statement = (
            select(Answer)
            .where(Answer.project_id == self.project_id, Answer.question_id.in_(question_ids))
            .order_by(Answer.created_at, Answer.id)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def answer(self, question_id: str, answer_id: str) -> Answer | None:
        statement = select(Answer).where(
            Answer.project_id == self.project_id, Answer.question_id == question_id, Answer.id == answer_id
        )
        found: Answer | None = (await self.session.execute(statement)).scalar_one_or_none()
        return found

    async def vote(self, question_id: str, voter: str) -> QuestionVote | None:
        statement = select(QuestionVote).where(
            QuestionVote.question_id == question_id, QuestionVote.voter == voter
        )
        found: QuestionVote | None = (await self.session.execute(statement)).scalar_one_or_none()
        return found

    async def delete_where(self, *, room_id: str | None = None, session_id: str | None = None) -> int:
        """Delete questions (answers and votes go with them by foreign key)."""
        statement = delete(Question).where(Question.project_id == self.project_id)
        if room_id is not None:
            statement = statement.where(Question.room_id == room_id)
        if session_id is not None:
            statement = statement.where(Question.session_id == session_id)
        result = await self.session.execute(statement)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

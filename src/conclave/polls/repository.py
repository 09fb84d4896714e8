"""Every query of the polls domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from conclave.kit.pagination import PageParams
from conclave.kit.repository import ProjectScopedRepository
from conclave.polls.models import Poll, PollOption, PollVote


class PollRepository(ProjectScopedRepository[Poll]):
    model = Poll

    async def get(self, poll_id: str, *, room_id: str | None = None) -> Poll | None:
        statement = self.scoped().where(Poll.id == poll_id)
        if room_id is not None:
            statement = statement.where(Poll.room_id == room_id)
        found: Poll | None = (await self.session.execute(statement)).scalar_one_or_none()
        return found

    async def page(self, params: PageParams, *, room_id: str, cursor: Poll | None) -> tuple[list[Poll], int]:
        return await self.paginate(self.scoped().where(Poll.room_id == room_id), params, cursor)

    async def options_for(self, poll_ids: Sequence[str]) -> list[PollOption]:
        if not poll_ids:
            return []
        statement = (
            select(PollOption)
            .join(Poll, Poll.id == PollOption.poll_id)
            .where(Poll.project_id == self.project_id, PollOption.poll_id.in_(poll_ids))
            .order_by(PollOption.poll_id, PollOption.position)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def votes(self, poll_id: str) -> list[PollVote]:
        statement = (
            select(PollVote).where(PollVote.poll_id == poll_id).order_by(PollVote.created_at, PollVote.id)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def ballot(self, poll_id: str, participant_id: str) -> PollVote | None:
        statement = select(PollVote).where(
            PollVote.poll_id == poll_id, PollVote.participant_id == participant_id
        )
        found: PollVote | None = (await self.session.execute(statement)).scalar_one_or_none()
        return found

    async def option_ids_taken(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        statement = select(PollOption.id).where(PollOption.id.in_(ids))
        return set((await self.session.execute(statement)).scalars().all())

    async def delete_where(self, *, room_id: str | None = None, session_id: str | None = None) -> int:
        statement = delete(Poll).where(Poll.project_id == self.project_id)
        if room_id is not None:
            statement = statement.where(Poll.room_id == room_id)
        if session_id is not None:
            statement = statement.where(Poll.session_id == session_id)
        result = await self.session.execute(statement)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

"""Every query of the transcripts domain."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from conclave.kit.pagination import PageParams
from conclave.kit.repository import ProjectScopedRepository
from conclave.transcripts.models import Summary, TranscriptSegment


class SegmentRepository(ProjectScopedRepository[TranscriptSegment]):
    model = TranscriptSegment

    async def get(self, segment_id: str) -> TranscriptSegment | None:
        statement = self.scoped().where(TranscriptSegment.id == segment_id)
        found: TranscriptSegment | None = (await self.session.execute(statement)).scalar_one_or_none()
        return found

    async def page(
        self,
        params: PageParams,
        *,
        room_id: str | None,
        session_id: str | None,
        cursor: TranscriptSegment | None,
    ) -> tuple[list[TranscriptSegment], int]:
        statement = self.scoped()
        if room_id is not None:
            statement = statement.where(TranscriptSegment.room_id == room_id)
        if session_id is not None:
            statement = statement.where(TranscriptSegment.session_id == session_id)
        return await self.paginate(statement, params, cursor)

    async def all(self, *, room_id: str | None, session_id: str | None) -> list[TranscriptSegment]:
        statement = self.scoped()
        if room_id is not None:
            statement = statement.where(TranscriptSegment.room_id == room_id)
        if session_id is not None:
            statement = statement.where(TranscriptSegment.session_id == session_id)
        statement = statement.order_by(
            TranscriptSegment.start_time, TranscriptSegment.created_at, TranscriptSegment.id
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def count_for_session(self, session_id: str) -> int:
        statement = self.scoped(select(func.count(TranscriptSegment.id))).where(
            TranscriptSegment.session_id == session_id
        )
        count: int = (await self.session.execute(statement)).scalar_one()
        return count

    async def delete_where(self, *, room_id: str | None = None, session_id: str | None = None) -> int:
        statement = delete(TranscriptSegment).where(TranscriptSegment.project_id == self.project_id)
        if room_id is not None:
            statement = statement.where(TranscriptSegment.room_id == room_id)
        if session_id is not None:
            statement = statement.where(TranscriptSegment.session_id == session_id)
        result = await self.session.execute(statement)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class SummaryRepository(ProjectScopedRepository[Summary]):
    model = Summary

    async def for_session(self, session_id: str) -> Summary | None:
        statement = self.scoped().where(Summary.session_id == session_id)
        found: Summary | None = (await self.session.execute(statement)).scalar_one_or_none()
        return found

    async def get(self, summary_id: str) -> Summary | None:
        statement = self.scoped().where(Summary.id == summary_id)
        found: Summary | None = (await self.session.execute(statement)).scalar_one_or_none()
        return found

    async def delete_where(self, *, room_id: str | None = None, session_id: str | None = None) -> int:
        statement = delete(Summary).where(Summary.project_id == self.project_id)
        if room_id is not None:
            statement = statement.where(Summary.room_id == room_id)
        if session_id is not None:
            statement = statement.where(Summary.session_id == session_id)
        result = await self.session.execute(statement)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

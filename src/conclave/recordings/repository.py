"""Every query of the recordings domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from conclave.kit.pagination import PageParams
from conclave.kit.repository import ProjectScopedRepository
from conclave.recordings.models import Recording, RecordingFile


@dataclass(frozen=True)
class RecordingFilter:
    room_id: str | None = None
    session_id: str | None = None
    status: str | None = None
    archived: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class RecordingRepository(ProjectScopedRepository[Recording]):
    model = Recording

    async def get(self, recording_id: str) -> Recording | None:
        statement = self.scoped().where(Recording.id == recording_id).options(selectinload(Recording.files))
        found: Recording | None = (await self.session.execute(statement)).scalar_one_or_none()
        return found

    async def in_progress_for_room(self, room_id: str) -> Recording | None:
        statement = (
            self.scoped()
            .where(Recording.room_id == room_id, Recording.status == "in_progress")
            .options(selectinload(Recording.files))
        )
        found: Recording | None = (await self.session.execute(statement)).scalars().first()
        return found

    async def in_progress_for_session(self, session_id: str) -> list[Recording]:
        statement = self.scoped().where(Recording.session_id == session_id, Recording.status == "in_progress")
        return list((await self.session.execute(statement)).scalars().all())

    async def page(
        self, params: PageParams, filters: RecordingFilter, cursor: Recording | None
    ) -> tuple[list[Recording], int]:
        statement = self.scoped().options(selectinload(Recording.files))
        if filters.room_id is not None:
            statement = statement.where(Recording.room_id == filters.room_id)
        if filters.session_id is not None:
            statement = statement.where(Recording.session_id == filters.session_id)
        if filters.status is not None:
            statement = statement.where(Recording.status == filters.status)
        if filters.archived is not None:
            statement = statement.where(Recording.archived == filters.archived)
        if filters.created_from is not None:
            statement = statement.where(Recording.created_at >= filters.created_from)
        if filters.created_to is not None:
            statement = statement.where(Recording.created_at < filters.created_to)
        return await self.paginate(statement, params, cursor)

    async def matching(self, *, room_id: str | None = None, session_id: str | None = None) -> list[Recording]:
        statement = self.scoped().options(selectinload(Recording.files))
        if room_id is not None:
            statement = statement.where(Recording.room_id == room_id)
        if session_id is not None:
            statement = statement.where(Recording.session_id == session_id)
        return list((await self.session.execute(statement)).scalars().all())

    async def finished_before(self, before: datetime) -> list[Recording]:
        """Ready or failed recordings older than ``before`` (retention), archived ones excepted."""
        statement = (
            self.scoped()
            .where(
                Recording.status.in_(("ready", "failed")),
                Recording.archived.is_(False),
                Recording.created_at < before,
            )
            .options(selectinload(Recording.files))
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def delete(self, recording: Recording) -> None:
        await self.session.execute(delete(RecordingFile).where(RecordingFile.recording_id == recording.id))
        await self.session.delete(recording)


async def recording_by_id(session: AsyncSession, recording_id: str) -> Recording | None:
    """Unscoped on purpose: jobs and signed links carry only the id (the signature or the job
    row is the authority), and they act for whichever project owns it."""
    statement = select(Recording).where(Recording.id == recording_id).options(selectinload(Recording.files))
    found: Recording | None = (await session.execute(statement)).scalar_one_or_none()
    return found


async def in_progress_for_session(session: AsyncSession, session_id: str) -> list[Recording]:
    """Unscoped: ``session.ended`` arrives for any project."""
    statement = select(Recording).where(Recording.session_id == session_id, Recording.status == "in_progress")
    return list((await session.execute(statement)).scalars().all())


async def projects_with_finished_recordings(session: AsyncSession) -> list[str]:
    statement = select(Recording.project_id).where(Recording.status.in_(("ready", "failed"))).distinct()
    return list((await session.execute(statement)).scalars().all())


async def replace_files(session: AsyncSession, recording: Recording, files: list[RecordingFile]) -> None:
    """A retried job replaces the rows of an earlier, interrupted attempt."""
    await session.execute(delete(RecordingFile).where(RecordingFile.recording_id == recording.id))
    for file in files:
        file.recording_id = recording.id
        session.add(file)

"""Every query of the libraries domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.pagination import PageParams
from conclave.kit.repository import ProjectScopedRepository
from conclave.libraries.models import Library, LibraryFile


class LibraryRepository(ProjectScopedRepository[Library]):
    model = Library

    async def get(self, library_id: str) -> Library | None:
        found: Library | None = (
            await self.session.execute(self.scoped().where(Library.id == library_id))
        ).scalar_one_or_none()
        return found

    async def page(self, params: PageParams, cursor: Library | None) -> tuple[list[Library], int]:
        return await self.paginate(self.scoped(), params, cursor)

    async def for_room(self, room_id: str) -> list[Library]:
        statement = self.scoped().where(Library.room_id == room_id)
        return list((await self.session.execute(statement)).scalars().all())


class FileRepository(ProjectScopedRepository[LibraryFile]):
    model = LibraryFile

    async def get(self, file_id: str, *, library_id: str | None = None) -> LibraryFile | None:
        statement = self.scoped().where(LibraryFile.id == file_id)
        if library_id is not None:
            statement = statement.where(LibraryFile.library_id == library_id)
        found: LibraryFile | None = (await self.session.execute(statement)).scalar_one_or_none()
        return found

    async def page(
        self, params: PageParams, library_id: str, cursor: LibraryFile | None
    ) -> tuple[list[LibraryFile], int]:
        return await self.paginate(self.scoped().where(LibraryFile.library_id == library_id), params, cursor)

    async def in_library(self, library_id: str) -> list[LibraryFile]:
        statement = self.scoped().where(LibraryFile.library_id == library_id)
        return list((await self.session.execute(statement)).scalars().all())

    @staticmethod
    async def by_id(session: AsyncSession, file_id: str) -> LibraryFile | None:
        """Unscoped on purpose: a signed download link is its own credential."""
        found: LibraryFile | None = (
            await session.execute(select(LibraryFile).where(LibraryFile.id == file_id))
        ).scalar_one_or_none()
        return found

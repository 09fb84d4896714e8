"""Every query of the scenes domain."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.ids import is_uuid
from conclave.kit.pagination import PageParams
from conclave.kit.repository import ProjectScopedRepository
from conclave.rooms.models import Room
from conclave.scenes.models import Scene
from conclave.tenancy.models import Project


class SceneRepository(ProjectScopedRepository[Scene]):
    model = Scene

    async def by_id(self, scene_id: str) -> Scene | None:
        if not is_uuid(scene_id):
            return None
        statement = self.scoped().where(Scene.id == scene_id.lower())
        scene: Scene | None = (await self.session.execute(statement)).scalars().first()
        return scene

    async def name_taken(self, name: str, *, except_id: str | None = None) -> bool:
        statement = self.scoped(select(Scene.id)).where(Scene.name == name)
        if except_id is not None:
            statement = statement.where(Scene.id != except_id)
        return (await self.session.execute(statement)).first() is not None

    async def page(
        self,
        params: PageParams,
        cursor: Scene | None,
        *,
        name: str | None = None,
        creator: str | None = None,
    ) -> tuple[list[Scene], int]:
        """A page of the project's scenes; ``name`` is a case-insensitive substring search."""
        statement = self.scoped()
        if name:
            statement = statement.where(func.lower(Scene.name).contains(name.lower(), autoescape=True))
        if creator is not None:
            statement = statement.where(Scene.creator == creator)
        return await self.paginate(statement, params, cursor)

    async def rooms_using(self, scene_id: str) -> list[str]:
        """Ids of the project's rooms that point at the scene (read-only look into rooms)."""
        statement = (
            select(Room.id)
            .where(Room.project_id == self.project_id, Room.scene_id == scene_id)
            .order_by(Room.created_at, Room.id)
        )
        return list((await self.session.execute(statement)).scalars().all())


async def scene_in_organization(session: AsyncSession, organization_id: str, scene_id: str) -> Scene | None:
    """A scene by UUID among all of an organization's projects (XRCLOUD keys reach every project)."""
    if not is_uuid(scene_id):
        return None
    statement = (
        select(Scene)
        .join(Project, Project.id == Scene.project_id)
        .where(Project.organization_id == organization_id, Scene.id == scene_id.lower())
    )
    scene: Scene | None = (await session.execute(statement)).scalars().first()
    return scene

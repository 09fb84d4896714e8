"""Every query of the access domain."""

from __future__ import annotations

from sqlalchemy import String, cast, or_, select

from conclave.access.models import IssuedToken, Role
from conclave.kit.repository import ProjectScopedRepository
from conclave.rooms.models import Room


class RoleRepository(ProjectScopedRepository[Role]):
    model = Role

    async def all(self) -> list[Role]:
        statement = self.scoped().order_by(Role.created_at, Role.id)
        return list((await self.session.execute(statement)).scalars().all())

    async def by_id_or_name(self, value: str) -> Role | None:
        statement = self.scoped().where(or_(Role.id == value, Role.name == value))
        role: Role | None = (await self.session.execute(statement)).scalars().first()
        return role

    async def rooms_using(self, name: str) -> list[str]:
        """Friendly urls of the project's rooms that list this role (LIKE narrows, Python decides)."""
        statement = select(Room.friendly_url, Room.roles).where(
            Room.project_id == self.project_id, cast(Room.roles, String).like(f'%"{name}"%')
        )
        rows = (await self.session.execute(statement)).all()
        return [friendly_url for friendly_url, roles in rows if name in roles]


class IssuedTokenRepository(ProjectScopedRepository[IssuedToken]):
    model = IssuedToken

    async def for_room(self, room_id: str) -> list[IssuedToken]:
        statement = self.scoped().where(IssuedToken.room_id == room_id).order_by(IssuedToken.created_at)
        return list((await self.session.execute(statement)).scalars().all())

    async def get(self, jti: str) -> IssuedToken | None:
        statement = self.scoped().where(IssuedToken.jti == jti)
        token: IssuedToken | None = (await self.session.execute(statement)).scalar_one_or_none()
        return token

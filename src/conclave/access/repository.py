"""Every query of the access domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, case, cast, literal, or_, select, update

from conclave.access.models import BanRule, IssuedToken, Role
from conclave.kit.pagination import PageParams
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

    async def record_use(self, jti: str, ip: str | None, at: datetime) -> None:
        """Count one more use and keep the first one's time and address, in one statement.

        A token signed elsewhere (by the developer's own backend) has no row: nothing changes.
        """
        first_use = IssuedToken.first_used_at.is_(None)
        statement = (
            update(IssuedToken)
            .where(IssuedToken.project_id == self.project_id, IssuedToken.jti == jti)
            .values(
                uses=IssuedToken.uses + 1,
                first_used_at=case(
                    (first_use, literal(at, IssuedToken.first_used_at.type)), else_=IssuedToken.first_used_at
                ),
                first_used_ip=case(
                    (first_use, literal(ip, IssuedToken.first_used_ip.type)), else_=IssuedToken.first_used_ip
                ),
            )
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(statement)


class BanRepository(ProjectScopedRepository[BanRule]):
    model = BanRule

    async def get(self, ban_id: str) -> BanRule | None:
        found: BanRule | None = (
            await self.session.execute(self.scoped().where(BanRule.id == ban_id))
        ).scalar_one_or_none()
        return found

    async def matching(
        self, room_id: str, external_id: str | None, ip: str | None, now: datetime
    ) -> BanRule | None:
        who = []
        if external_id:
            who.append(BanRule.external_id == external_id)
        if ip:
            who.append(BanRule.ip == ip)
        if not who:
            return None
        statement = self.scoped().where(
            or_(*who),
            or_(BanRule.room_id.is_(None), BanRule.room_id == room_id),
            or_(BanRule.expires_at.is_(None), BanRule.expires_at > now),
        )
        found: BanRule | None = (await self.session.execute(statement.limit(1))).scalars().first()
        return found

    async def page(
        self, params: PageParams, room_id: str | None, cursor: BanRule | None
    ) -> tuple[list[BanRule], int]:
        statement = self.scoped()
        if room_id is not None:
            statement = statement.where(BanRule.room_id == room_id)
        return await self.paginate(statement, params, cursor)

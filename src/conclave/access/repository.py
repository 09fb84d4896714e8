"""Every query of the access domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, case, cast, insert, or_, select, update

from conclave.access.models import BanRule, IssuedToken, Role
from conclave.kit.db import table_of
from conclave.kit.pagination import PageParams
from conclave.kit.repository import ProjectScopedRepository, prebuilt_scoped
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

    async def add(self, record: dict[str, Any]) -> None:
        """Record an issued token: a plain insert, since nothing reads the row back in this request."""
        await self.session.execute(INSERT_ISSUED_TOKEN, {**record, "project_id": self.project_id})

    async def record_use(self, jti: str, ip: str | None, at: datetime) -> None:
        """Count one more use and keep the first one's time and address, in one statement.

        A token signed elsewhere (by the developer's own backend) has no row: nothing changes.
        """
        await self.session.execute(
            _RECORD_USE, {"b_project_id": self.project_id, "b_jti": jti, "b_ip": ip, "b_at": at}
        )


INSERT_ISSUED_TOKEN = insert(table_of(IssuedToken))
_FIRST_USE = IssuedToken.first_used_at.is_(None)
_RECORD_USE = (
    update(IssuedToken)
    .where(IssuedToken.project_id == bindparam("b_project_id"), IssuedToken.jti == bindparam("b_jti"))
    .values(
        uses=IssuedToken.uses + 1,
        first_used_at=case(
            (_FIRST_USE, bindparam("b_at", type_=IssuedToken.first_used_at.type)),
            else_=IssuedToken.first_used_at,
        ),
        first_used_ip=case(
            (_FIRST_USE, bindparam("b_ip", type_=IssuedToken.first_used_ip.type)),
            else_=IssuedToken.first_used_ip,
        ),
    )
    .execution_options(synchronize_session=False)
)
"""Built once, like the other statements of joins (see ``kit.repository.prebuilt_scoped``); an
update's parameters may not be named after its columns, hence the ``b_`` prefix."""


def _ban_matching(*, by_external_id: bool, by_ip: bool) -> Any:
    """A live ban of this room (or of the whole project) on the joiner's external id or address."""
    who = [BanRule.external_id == bindparam("external_id")] if by_external_id else []
    who += [BanRule.ip == bindparam("ip")] if by_ip else []
    return prebuilt_scoped(
        BanRule,
        or_(*who),
        or_(BanRule.room_id.is_(None), BanRule.room_id == bindparam("room_id")),
        or_(BanRule.expires_at.is_(None), BanRule.expires_at > bindparam("now")),
    ).limit(1)


# Every join checks for a ban: built once per combination (see ``prebuilt_scoped``).
_BAN_MATCHING = {
    (by_external_id, by_ip): _ban_matching(by_external_id=by_external_id, by_ip=by_ip)
    for by_external_id, by_ip in ((True, False), (False, True), (True, True))
}


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
        statement = _BAN_MATCHING.get((bool(external_id), bool(ip)))
        if statement is None:
            return None
        found = await self.execute_prebuilt(
            statement, room_id=room_id, external_id=external_id, ip=ip, now=now
        )
        ban: BanRule | None = found.scalars().first()
        return ban

    async def page(
        self, params: PageParams, room_id: str | None, cursor: BanRule | None
    ) -> tuple[list[BanRule], int]:
        statement = self.scoped()
        if room_id is not None:
            statement = statement.where(BanRule.room_id == room_id)
        return await self.paginate(statement, params, cursor)

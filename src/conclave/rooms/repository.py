"""Every query of the rooms domain."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from conclave.kit.ids import is_uuid
from conclave.kit.pagination import PageParams
from conclave.kit.repository import ProjectScopedRepository
from conclave.rooms.models import Room, RoomTag

ACTIVE_STATUSES = ("idle", "live")


class RoomRepository(ProjectScopedRepository[Room]):
    model = Room

    async def by_ref(self, ref: str) -> Room | None:
        """A room by UUID or friendly_url, as every ``{room}`` path parameter accepts."""
        condition = (
            or_(Room.id == ref, Room.friendly_url == ref) if is_uuid(ref) else Room.friendly_url == ref
        )
        statement = self.scoped().where(condition).options(selectinload(Room.tag_rows))
        room: Room | None = (await self.session.execute(statement)).scalars().first()
        return room

    async def friendly_url_taken(self, friendly_url: str, *, except_id: str | None = None) -> bool:
        statement = self.scoped(select(Room.id)).where(Room.friendly_url == friendly_url)
        if except_id:
            statement = statement.where(Room.id != except_id)
        return (await self.session.execute(statement)).first() is not None

    async def external_id_taken(self, external_id: str, *, except_id: str | None = None) -> bool:
        statement = self.scoped(select(Room.id)).where(Room.external_id == external_id)
        if except_id:
            statement = statement.where(Room.id != except_id)
        return (await self.session.execute(statement)).first() is not None

    async def count_active(self) -> int:
        statement = self.scoped(select(func.count(Room.id))).where(Room.status.in_(ACTIVE_STATUSES))
        count: int = (await self.session.execute(statement)).scalar_one()
        return count

    async def page(self, params: PageParams, tags: list[str], cursor: Room | None) -> tuple[list[Room], int]:
        statement = self.scoped().options(selectinload(Room.tag_rows))
        if tags:
            statement = statement.where(Room.id.in_(select(RoomTag.room_id).where(RoomTag.tag.in_(tags))))
        return await self.paginate(statement, params, cursor)

    async def with_any_tag(self, tags: list[str]) -> list[Room]:
        statement = self.scoped().where(Room.id.in_(select(RoomTag.room_id).where(RoomTag.tag.in_(tags))))
        return list((await self.session.execute(statement)).scalars().all())

"""Repository base: tenant scoping and Digital Samba pagination in one place."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from sqlalchemy import Result, Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.db import Base
from conclave.kit.pagination import PageParams, sql_offset

M = TypeVar("M", bound=Base)


async def paginate(
    session: AsyncSession, statement: Select[Any], model: Any, params: PageParams, cursor: Any | None = None
) -> tuple[list[Any], int]:
    """Apply ``order``/``after``/``offset``/``limit`` over (created_at, id); count the filtered set.

    ``cursor`` is the row named by ``after``; the caller resolves it because what ``after`` may
    name differs by resource (rooms also accept a friendly_url).
    """
    total = (await session.execute(select(func.count()).select_from(statement.subquery()))).scalar_one()
    created, ident = model.created_at, model.id
    if cursor is not None:
        if params.order == "desc":
            statement = statement.where(
                or_(created < cursor.created_at, and_(created == cursor.created_at, ident < cursor.id))
            )
        else:
            statement = statement.where(
                or_(created > cursor.created_at, and_(created == cursor.created_at, ident > cursor.id))
            )
    ordering = (created.desc(), ident.desc()) if params.order == "desc" else (created.asc(), ident.asc())
    statement = statement.order_by(*ordering).offset(sql_offset(params.offset)).limit(params.limit)
    rows = list((await session.execute(statement)).scalars().all())
    return rows, total


def prebuilt_scoped(model: Any, *criteria: Any) -> Select[Any]:
    """A project-scoped statement to build once, at import, for a query on a hot path.

    Building a statement costs about as much as running it on this stack (and a new one also
    needs its cache key computed); a prebuilt one takes its values as bound parameters. Run it
    with :meth:`ProjectScopedRepository.execute_prebuilt`, which binds ``project_id``.
    """
    return select(model).where(model.project_id == bindparam("project_id"), *criteria)


class ProjectScopedRepository(Generic[M]):
    """Every query of a project-owned table goes through ``scoped`` so no tenant leaks."""

    model: type[M]

    def __init__(self, session: AsyncSession, project_id: str) -> None:
        self.session = session
        self.project_id = project_id

    def scoped(self, statement: Any = None) -> Select[Any]:
        base: Select[Any] = statement if statement is not None else select(self.model)
        column: Any = self.model.project_id  # type: ignore[attr-defined]
        return base.where(column == self.project_id)

    async def execute_prebuilt(self, statement: Any, **params: Any) -> Result[Any]:
        """Execute a :func:`prebuilt_scoped` statement for this repository's project."""
        result: Result[Any] = await self.session.execute(statement, {"project_id": self.project_id, **params})
        return result

    async def paginate(
        self, statement: Select[Any], params: PageParams, cursor: M | None
    ) -> tuple[list[M], int]:
        return await paginate(self.session, statement, self.model, params, cursor)

"""Every query of the tenancy domain."""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.db import table_of
from conclave.kit.pagination import PageParams
from conclave.kit.repository import paginate
from conclave.tenancy.models import Credential, Organization, Project, ProjectDailyUsage

# Built once: the queries every authenticated request, token and join runs. Building a statement
# costs about as much as executing it on this stack, and a prebuilt one also skips cache-key work.
_CREDENTIAL_AND_PROJECT_BY_DIGEST = (
    select(Credential, Project)
    .join(Project, Project.id == Credential.project_id)
    .where(Credential.secret_digest == bindparam("digest"))
)
_CREDENTIALS_OF_PROJECT = (
    select(Credential)
    .where(Credential.project_id == bindparam("project_id"))
    .order_by(Credential.created_at, Credential.id)
)

_USAGE_UPSERTS: dict[str, Any] = {}


class DailyCounts(NamedTuple):
    """A project's counters for one day: of one shard, or summed over them."""

    api_calls: int
    rooms_created: int


def _usage_upsert(dialect: str) -> Any:
    """The daily-usage upsert of one dialect, built once (every room creation runs it).

    An insert's parameters may not be named after its columns, hence the ``b_`` prefix. It is a
    Core statement on the table returning the shard's two counters: returning the mapped class
    instead sends it through the ORM's bulk-insert path, which cost a third of a room creation's
    database time.
    """
    statement = _USAGE_UPSERTS.get(dialect)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        usage = table_of(ProjectDailyUsage)
        values = insert(usage).values(
            project_id=bindparam("b_project_id"),
            day=bindparam("b_day", type_=ProjectDailyUsage.day.type),
            shard=bindparam("b_shard"),
            api_calls=bindparam("b_api_calls"),
            rooms_created=bindparam("b_rooms"),
        )
        statement = _USAGE_UPSERTS[dialect] = values.on_conflict_do_update(
            index_elements=[usage.c.project_id, usage.c.day, usage.c.shard],
            set_={
                "api_calls": usage.c.api_calls + bindparam("b_api_calls"),
                "rooms_created": usage.c.rooms_created + bindparam("b_rooms"),
            },
        ).returning(usage.c.api_calls, usage.c.rooms_created)
    return statement


_USAGE_OF_DAY = select(
    func.coalesce(func.sum(ProjectDailyUsage.api_calls), 0),
    func.coalesce(func.sum(ProjectDailyUsage.rooms_created), 0),
).where(ProjectDailyUsage.project_id == bindparam("project_id"), ProjectDailyUsage.day == bindparam("day"))


class TenancyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_organization(self, organization_id: str) -> Organization | None:
        return await self.session.get(Organization, organization_id)

    async def get_project(self, project_id: str, *, organization_id: str | None = None) -> Project | None:
        if organization_id is None:
            # Often loaded already in this transaction (authentication, a join's room): then free.
            return await self.session.get(Project, project_id)
        statement = select(Project).where(
            Project.id == project_id, Project.organization_id == organization_id
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def credential_by_digest(self, digest: str) -> Credential | None:
        statement = select(Credential).where(Credential.secret_digest == digest)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def project_credential_by_digest(self, digest: str) -> tuple[Credential, Project] | None:
        row = (await self.session.execute(_CREDENTIAL_AND_PROJECT_BY_DIGEST, {"digest": digest})).first()
        return None if row is None else (row[0], row[1])

    async def credential_by_key_id(self, key_id: str) -> Credential | None:
        statement = select(Credential).where(Credential.key_id == key_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def credentials_of_project(self, project_id: str) -> list[Credential]:
        """Oldest first; the signing keys are read from here on every token issued."""
        found = await self.session.execute(_CREDENTIALS_OF_PROJECT, {"project_id": project_id})
        return list(found.scalars().all())

    async def credentials_page(
        self, params: PageParams, *, organization_id: str | None = None, project_id: str | None = None
    ) -> tuple[list[Credential], int] | None:
        """One owner's credentials, oldest first by default; None when ``after`` names none of them.

        ``after`` is a key id, as the API shows credentials by key id.
        """
        if project_id is not None:
            statement = select(Credential).where(Credential.project_id == project_id)
        else:
            statement = select(Credential).where(Credential.organization_id == organization_id)
        cursor = None
        if params.after is not None:
            cursor = (
                (await self.session.execute(statement.where(Credential.key_id == params.after)))
                .scalars()
                .first()
            )
            if cursor is None:
                return None
        return await paginate(self.session, statement, Credential, params, cursor)

    async def app_id_taken(self, app_id: str) -> bool:
        found = await self.session.execute(select(Project.id).where(Project.app_id == app_id))
        return found.first() is not None

    async def project_name_taken(
        self, organization_id: str, name: str, *, except_id: str | None = None
    ) -> bool:
        statement = select(Project.id).where(Project.organization_id == organization_id, Project.name == name)
        if except_id is not None:
            statement = statement.where(Project.id != except_id)
        return (await self.session.execute(statement)).first() is not None

    async def list_organizations(self, params: PageParams) -> tuple[list[Organization], int]:
        return await self._paginate(select(Organization), Organization, params)

    async def list_projects(self, organization_id: str, params: PageParams) -> tuple[list[Project], int]:
        statement = select(Project).where(Project.organization_id == organization_id)
        return await self._paginate(statement, Project, params)

    async def _paginate(
        self, statement: Select[Any], model: Any, params: PageParams
    ) -> tuple[list[Any], int]:
        cursor = await self.session.get(model, params.after) if params.after else None
        return await paginate(self.session, statement, model, params, cursor)

    async def add_usage(
        self, project_id: str, day: date, *, shard: int, api_calls: int = 0, rooms_created: int = 0
    ) -> DailyCounts:
        """Add to one shard of a day's counters and return that shard's new counts (one upsert,
        both dialects); the shard's row stays locked until the transaction ends."""
        result = await self.session.execute(
            _usage_upsert(self.session.get_bind().dialect.name),
            {
                "b_project_id": project_id,
                "b_day": day,
                "b_shard": shard,
                "b_api_calls": api_calls,
                "b_rooms": rooms_created,
            },
        )
        api_calls_now, rooms_now = result.one()
        return DailyCounts(api_calls_now, rooms_now)

    async def usage(self, project_id: str, day: date) -> DailyCounts:
        api_calls, rooms_created = (
            await self.session.execute(_USAGE_OF_DAY, {"project_id": project_id, "day": day})
        ).one()
        return DailyCounts(int(api_calls), int(rooms_created))

    async def revoke_credentials(self, ids: list[str], when: Any) -> None:
        await self.session.execute(update(Credential).where(Credential.id.in_(ids)).values(revoked_at=when))

    async def projects_with_label(self, organization_id: str, label: str | None) -> list[Project]:
        """The organization's projects, oldest first, optionally only those carrying ``label``.

        Labels live in a JSON list; filtering it in Python keeps one query for SQLite and
        PostgreSQL alike, and an organization has few projects.
        """
        statement = (
            select(Project)
            .where(Project.organization_id == organization_id)
            .order_by(Project.created_at, Project.id)
        )
        projects = list((await self.session.execute(statement)).scalars().all())
        return [project for project in projects if label is None or label in (project.labels or [])]

    async def credentials_of_projects(self, project_ids: list[str]) -> list[Credential]:
        """Every credential of these projects, oldest first, in one query."""
        if not project_ids:
            return []
        statement = (
            select(Credential)
            .where(Credential.project_id.in_(project_ids))
            .order_by(Credential.created_at, Credential.id)
        )
        return list((await self.session.execute(statement)).scalars().all())

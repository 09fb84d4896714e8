"""Every query of the sessions domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnClause, bindparam, func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.pagination import PageParams
from conclave.kit.repository import ProjectScopedRepository, prebuilt_scoped
from conclave.sessions.models import Participant, Session

PRESENT = ("joined", "disconnected")
# A literal, not a bound parameter: only then can the planner (SQLite's, and PostgreSQL's generic
# plans) prove that a query wants live sessions and use the partial index of live sessions,
# instead of walking every session the project or the server ever had.
LIVE: ColumnClause[str] = literal_column("'live'")

# Joins and leaves run these; see ``prebuilt_scoped``.
_SESSION = prebuilt_scoped(Session, Session.id == bindparam("session_id"))
_LIVE_SESSION_OF_ROOM = prebuilt_scoped(
    Session, Session.room_id == bindparam("room_id"), Session.status == LIVE
)
_PARTICIPANT = prebuilt_scoped(Participant, Participant.id == bindparam("participant_id"))
_PRESENT_IN_SESSION = prebuilt_scoped(
    Participant, Participant.session_id == bindparam("session_id"), Participant.status.in_(PRESENT)
).order_by(Participant.joined_at, Participant.id)
_COUNT_PRESENT_IN_SESSION = select(func.count(Participant.id)).where(
    Participant.project_id == bindparam("project_id"),
    Participant.session_id == bindparam("session_id"),
    Participant.status.in_(PRESENT),
)


class SessionRepository(ProjectScopedRepository[Session]):
    model = Session

    async def get(self, session_id: str) -> Session | None:
        found: Session | None = (
            await self.execute_prebuilt(_SESSION, session_id=session_id)
        ).scalar_one_or_none()
        return found

    async def live_for_room(self, room_id: str) -> Session | None:
        live: Session | None = (
            await self.execute_prebuilt(_LIVE_SESSION_OF_ROOM, room_id=room_id)
        ).scalar_one_or_none()
        return live

    async def page(
        self, params: PageParams, *, room_id: str | None, status: str | None, cursor: Session | None
    ) -> tuple[list[Session], int]:
        statement = self.scoped()
        if room_id is not None:
            statement = statement.where(Session.room_id == room_id)
        if status is not None:
            statement = statement.where(Session.status == status)
        return await self.paginate(statement, params, cursor)

    async def page_of_identity(
        self, params: PageParams, participant: Participant, cursor: Session | None
    ) -> tuple[list[Session], int]:
        """Sessions the same person attended: by external id when known, else the one session."""
        if participant.external_id is None:
            statement = self.scoped().where(Session.id == participant.session_id)
        else:
            attended = select(Participant.session_id).where(
                Participant.project_id == self.project_id, Participant.external_id == participant.external_id
            )
            statement = self.scoped().where(Session.id.in_(attended))
        return await self.paginate(statement, params, cursor)


class ParticipantRepository(ProjectScopedRepository[Participant]):
    model = Participant

    async def get(self, participant_id: str) -> Participant | None:
        found = await self.execute_prebuilt(_PARTICIPANT, participant_id=participant_id)
        participant: Participant | None = found.scalar_one_or_none()
        return participant

    async def present_in_session(self, session_id: str) -> list[Participant]:
        return list((await self.execute_prebuilt(_PRESENT_IN_SESSION, session_id=session_id)).scalars().all())

    async def count_present(self, *, session_id: str | None = None) -> int:
        if session_id is not None:
            in_session: int = (
                await self.execute_prebuilt(_COUNT_PRESENT_IN_SESSION, session_id=session_id)
            ).scalar_one()
            return in_session
        statement = self.scoped(select(func.count(Participant.id))).where(Participant.status.in_(PRESENT))
        count: int = (await self.session.execute(statement)).scalar_one()
        return count

    async def page(
        self,
        params: PageParams,
        *,
        session_id: str | None = None,
        room_id: str | None = None,
        external_id: str | None = None,
        cursor: Participant | None = None,
    ) -> tuple[list[Participant], int]:
        statement = self.scoped().where(Participant.status.not_in(("waiting", "denied")))
        if session_id is not None:
            statement = statement.where(Participant.session_id == session_id)
        if room_id is not None:
            statement = statement.where(Participant.room_id == room_id)
        if external_id is not None:
            statement = statement.where(Participant.external_id == external_id)
        return await self.paginate(statement, params, cursor)

    @staticmethod
    async def by_resume_token(session: AsyncSession, resume_token: str) -> Participant | None:
        """Unscoped on purpose: the resume token itself is the credential (random, single-owner)."""
        statement = select(Participant).where(Participant.resume_token == resume_token)
        found: Participant | None = (await session.execute(statement)).scalar_one_or_none()
        return found

    async def session_stats(self, session_id: str) -> dict[str, Any]:
        statement = self.scoped(
            select(
                func.count(Participant.id),
                func.count(func.distinct(Participant.external_id)),
                func.min(Participant.joined_at),
                func.max(Participant.left_at),
            )
        ).where(Participant.session_id == session_id, Participant.joined_at.is_not(None))
        total, distinct_external, first_join, last_leave = (await self.session.execute(statement)).one()
        return {
            "participants": total,
            "distinct_external_ids": distinct_external,
            "first_join_at": first_join,
            "last_leave_at": last_leave,
        }


async def stale_live_sessions(
    session: AsyncSession, *, exclude_instance: str, older_than: datetime | None
) -> list[Session]:
    """Live sessions owned by another server instance (all of them at start-up in embedded mode)."""
    statement = select(Session).where(Session.status == LIVE, Session.owner_instance != exclude_instance)
    if older_than is not None:
        statement = statement.where(Session.heartbeat_at < older_than)
    return list((await session.execute(statement)).scalars().all())


async def touch_sessions(session: AsyncSession, instance: str, now: datetime) -> None:
    """Heartbeat: the live sessions of this instance and their present participants are alive now."""
    await session.execute(
        update(Session)
        .where(Session.owner_instance == instance, Session.status == LIVE)
        .values(heartbeat_at=now)
    )
    live = select(Session.id).where(Session.owner_instance == instance, Session.status == LIVE)
    await session.execute(
        update(Participant)
        .where(Participant.session_id.in_(live), Participant.status.in_(PRESENT))
        .values(last_seen_at=now)
    )


async def anonymise_participants(
    session: AsyncSession,
    project_id: str,
    *,
    session_id: str | None = None,
    room_ids: list[str] | None = None,
) -> int:
    """Blank the personal data of a session's (or rooms') participants; the rows and times stay."""
    statement = update(Participant).where(Participant.project_id == project_id)
    if session_id is not None:
        statement = statement.where(Participant.session_id == session_id)
    if room_ids is not None:
        statement = statement.where(Participant.room_id.in_(room_ids))
    result = await session.execute(
        statement.values(name="Anonymous", external_id=None, ip=None, user_agent=None).execution_options(
            synchronize_session=False
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

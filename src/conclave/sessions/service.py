"""The only code that changes session and participant rows.

Admission rules live here (who may enter, when, how many), so the signalling layer, the
meeting page and the compatible surfaces all admit the same way. The realtime layer owns the
sockets and the media; it calls these functions inside short transactions.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conclave.access.models import BanRule
from conclave.access.schemas import BanCreate
from conclave.access.service import AccessService
from conclave.access.verifier import TokenRejected, TokenVerifier, unverified_room_id
from conclave.kit.errors import ConclaveError, Conflict, NotFound, ValidationFailed
from conclave.kit.events import DomainEvent, emit
from conclave.kit.ids import new_id
from conclave.kit.pagination import PageParams
from conclave.kit.time import isoformat, utcnow
from conclave.rooms.models import Room
from conclave.rooms.service import RoomService
from conclave.sessions.models import Participant, Session
from conclave.sessions.repository import (
    ParticipantRepository,
    SessionRepository,
    anonymise_participants,
    stale_live_sessions,
    touch_sessions,
)
from conclave.tenancy.service import TenancyService


class JoinRefused(ConclaveError):
    """Admission failed; ``close_code`` is the WebSocket close code of the realtime protocol."""

    status_code = 403

    def __init__(self, message: str, *, code: str, close_code: int) -> None:
        super().__init__(message, code=code)
        self.close_code = close_code


@dataclass(frozen=True)
class JoinTicket:
    """Who may enter which room, decided before anyone is counted."""

    room_id: str
    project_id: str
    role: str
    permissions: dict[str, bool]
    name: str
    external_id: str | None
    jti: str | None
    needs_admission: bool
    # The room as the authorizing transaction loaded it: ``enter`` in that same transaction
    # reuses it instead of reading it again.
    room: Room | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Entered:
    participant: Participant
    session: Session
    room: Room
    started: bool
    others: list[Participant]  # everyone else present in the session, in joining order


@dataclass(frozen=True)
class Left:
    participant: Participant
    session: Session
    remaining: int


def participant_event(kind: str, participant: Participant, **extra: Any) -> DomainEvent:
    data = {
        "room_id": participant.room_id,
        "session_id": participant.session_id,
        "participant_id": participant.id,
        "external_id": participant.external_id,
        "name": participant.name,
        "role": participant.role,
        **extra,
    }
    return DomainEvent(
        type=kind,
        project_id=participant.project_id,
        room_id=participant.room_id,
        session_id=participant.session_id,
        data=data,
    )


def session_event(kind: str, session: Session, **extra: Any) -> DomainEvent:
    data = {
        "room_id": session.room_id,
        "session_id": session.id,
        "started_at": isoformat(session.started_at),
        **extra,
    }
    return DomainEvent(
        type=kind, project_id=session.project_id, room_id=session.room_id, session_id=session.id, data=data
    )


class SessionService:
    def __init__(
        self,
        tenancy: TenancyService,
        rooms: RoomService,
        access: AccessService,
        verifier: TokenVerifier,
        instance_id: str,
    ) -> None:
        self.tenancy = tenancy
        self.rooms = rooms
        self.access = access
        self.verifier = verifier
        self.instance_id = instance_id

    # -- admission ---------------------------------------------------------------------------

    async def authorize(
        self,
        db: AsyncSession,
        *,
        token: str | None,
        room_ref: str | None,
        display_name: str | None,
        ip: str | None = None,
    ) -> JoinTicket:
        """Check a join request against the room and token, without counting anyone yet."""
        room_id = unverified_room_id(token) if token else None
        if token and room_id is None and not room_ref:
            raise JoinRefused(
                "this token names no room: add ?room=<room id>", code="room_required", close_code=4400
            )
        try:
            room = await self.rooms.find_for_join(db, room_id=room_id, ref=room_ref)
        except NotFound as exc:
            raise JoinRefused(exc.message, code="room_not_found", close_code=4404) from None
        except Conflict as exc:
            raise JoinRefused(exc.message, code=exc.code, close_code=4409) from None
        if token:
            try:
                grant = await self.verifier.verify(db, token, room)
            except TokenRejected as exc:
                raise JoinRefused(exc.message, code=exc.code, close_code=4401) from None
            role, permissions = grant.role, grant.permissions
            name, external_id, jti = display_name or grant.display_name, grant.user_external_id, grant.jti
        else:
            if room.privacy != "public":
                raise JoinRefused(
                    "this room is private: an access token is required",
                    code="token_required",
                    close_code=4403,
                )
            role_view = await self.access.get_role(db, room.project_id, room.default_role)
            role, permissions, name, external_id, jti = (
                role_view.name,
                role_view.permissions,
                display_name,
                None,
                None,
            )
        if not name:
            raise JoinRefused("display_name is required", code="display_name_required", close_code=4400)
        self._check_open(room)
        if await self.access.find_ban(db, room.project_id, room.id, external_id, ip) is not None:
            raise JoinRefused("you are banned from this room", code="banned", close_code=4403)
        return JoinTicket(
            room_id=room.id,
            project_id=room.project_id,
            role=role,
            permissions=permissions,
            name=name[:255],
            external_id=external_id,
            jti=jti,
            needs_admission=room.is_locked and not permissions.get("admit_participants", False),
            room=room,
        )

    @staticmethod
    def _check_open(room: Room) -> None:
        now = utcnow()
        if room.status == "ended":
            raise JoinRefused("the room has ended", code="room_ended", close_code=4409)
        if room.status == "scheduled" and room.scheduled_start_at and room.scheduled_start_at > now:
            raise JoinRefused(
                f"the room opens at {isoformat(room.scheduled_start_at)}",
                code="room_not_open",
                close_code=4409,
            )
        if room.nbf and room.nbf > now:
            raise JoinRefused(
                f"the room opens at {isoformat(room.nbf)}", code="room_not_open", close_code=4409
            )
        if room.exp and room.exp <= now:
            raise JoinRefused("the room has expired", code="room_expired", close_code=4409)

    async def enter(
        self,
        db: AsyncSession,
        ticket: JoinTicket,
        *,
        ip: str | None,
        user_agent: str | None,
        media_node: str | None,
    ) -> Entered:
        """Count the participant in, starting the room's session if it has none."""
        room = ticket.room if ticket.room is not None and ticket.room in db else None
        if room is None:  # authorized in an earlier transaction: read the room as it is now
            room = await db.get(Room, ticket.room_id, populate_existing=True)
        if room is None:
            raise JoinRefused("the room no longer exists", code="room_not_found", close_code=4404)
        self._check_open(room)
        project = await self.tenancy.get_project(db, room.project_id)
        sessions = SessionRepository(db, room.project_id)
        live = await sessions.live_for_room(room.id)
        others: list[Participant] = []
        if live is not None:
            others = await ParticipantRepository(db, room.project_id).present_in_session(live.id)
        present = len(others)
        capacity = room.max_participants
        if project.max_participants_per_room is not None:
            capacity = min(capacity, project.max_participants_per_room)
        if present >= capacity:
            raise JoinRefused(
                f"the room is full ({capacity} participants)", code="room_full", close_code=4409
            )
        started = live is None
        if live is None:
            live = Session(
                project_id=room.project_id,
                room_id=room.id,
                media_node=media_node,
                media_room_key=new_id(),
                owner_instance=self.instance_id,
            )
            db.add(live)
            await db.flush()
            self.rooms.mark_live(room)
            emit(db, session_event("session.started", live))
        now = utcnow()
        participant = Participant(
            project_id=room.project_id,
            room_id=room.id,
            session_id=live.id,
            external_id=ticket.external_id,
            name=ticket.name,
            role=ticket.role,
            status="joined",
            token_jti=ticket.jti,
            ip=ip,
            user_agent=(user_agent or "")[:1000] or None,
            resume_token=secrets.token_urlsafe(24),
            joined_at=now,
            last_seen_at=now,
        )
        db.add(participant)
        live.peak_participants = max(live.peak_participants, present + 1)
        await db.flush()
        emit(db, participant_event("participant.joined", participant))
        return Entered(participant=participant, session=live, room=room, started=started, others=others)

    # -- presence changes --------------------------------------------------------------------

    @staticmethod
    def _updated(db: AsyncSession, participant: Participant, **extra: Any) -> None:
        emit(
            db,
            participant_event(
                "participant.updated",
                participant,
                audio_muted=participant.audio_muted,
                video_muted=participant.video_muted,
                hand_raised=participant.hand_raised,
                **extra,
            ),
        )

    def _mute(
        self,
        db: AsyncSession,
        participant: Participant,
        audio: bool | None,
        video: bool | None,
        *,
        moderated: bool,
    ) -> None:
        """Record mute state; a moderator's mute (``moderated``) also blocks the media in Janus."""
        if audio is not None:
            participant.audio_muted = audio
        if video is not None:
            participant.video_muted = video
        self._updated(db, participant, **({"moderated": True} if moderated else {}))

    async def _participant(self, db: AsyncSession, project_id: str, participant_id: str) -> Participant:
        found = await ParticipantRepository(db, project_id).get(participant_id)
        if found is None:
            raise NotFound(f"participant {participant_id!r} not found", code="participant_not_found")
        return found

    async def leave(self, db: AsyncSession, project_id: str, participant_id: str, reason: str) -> Left:
        participant = await self._participant(db, project_id, participant_id)
        if participant.present:
            participant.status = "left"
            participant.left_at = utcnow()
            participant.left_reason = reason
            participant.resume_token = None
            participant.feed_id = None
            emit(
                db,
                participant_event(
                    "participant.left", participant, reason=reason, duration=participant.duration_seconds
                ),
            )
        session = await SessionRepository(db, project_id).get(participant.session_id)
        assert session is not None
        remaining = await ParticipantRepository(db, project_id).count_present(session_id=session.id)
        return Left(participant=participant, session=session, remaining=remaining)

    async def expire_disconnected(self, db: AsyncSession, project_id: str, participant_id: str) -> None:
        """The resume grace period ran out: the participant leaves unless they came back."""
        participant = await self._participant(db, project_id, participant_id)
        if participant.status == "disconnected":
            await self.leave(db, project_id, participant_id, "disconnected")

    async def find_resumable(self, db: AsyncSession, resume_token: str) -> Participant:
        participant = await ParticipantRepository.by_resume_token(db, resume_token)
        if participant is None or not participant.present:
            raise JoinRefused("nothing to resume: join again", code="resume_expired", close_code=4403)
        return participant

    async def present_participants(
        self, db: AsyncSession, project_id: str, session_id: str
    ) -> list[Participant]:
        return await ParticipantRepository(db, project_id).present_in_session(session_id)

    async def disconnect(self, db: AsyncSession, project_id: str, participant_id: str) -> Participant:
        """The socket dropped: still present (and counted) until resumed or the grace period ends."""
        participant = await self._participant(db, project_id, participant_id)
        if participant.status == "joined":
            participant.status = "disconnected"
            participant.feed_id = None
        return participant

    async def resume(self, db: AsyncSession, resume_token: str) -> Participant:
        participant = await self.find_resumable(db, resume_token)
        participant.status = "joined"
        participant.last_seen_at = utcnow()
        return participant

    async def set_feed(
        self, db: AsyncSession, project_id: str, participant_id: str, feed_id: int | None
    ) -> Participant:
        participant = await self._participant(db, project_id, participant_id)
        participant.feed_id = feed_id
        return participant

    async def set_muted(
        self,
        db: AsyncSession,
        project_id: str,
        participant_id: str,
        *,
        audio: bool | None,
        video: bool | None,
    ) -> Participant:
        participant = await self._participant(db, project_id, participant_id)
        self._mute(db, participant, audio, video, moderated=False)
        return participant

    async def _present_in_room(
        self, db: AsyncSession, project_id: str, room_ref: str, participant_id: str
    ) -> Participant:
        room = await self.rooms.get_room(db, project_id, room_ref)
        participant = await self._participant(db, project_id, participant_id)
        if participant.room_id != room.id:
            raise NotFound(
                f"participant {participant_id!r} not found in this room", code="participant_not_found"
            )
        if not participant.present:
            raise Conflict("the participant is no longer in the meeting", code="participant_not_present")
        return participant

    async def kick(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        participant_id: str,
        *,
        ban_seconds: int | None = None,
        reason: str | None = None,
    ) -> Participant:
        """Remove someone, optionally banning them from the room (by external id, else by IP).

        The realtime layer closes their socket and media when ``participant.left`` is published.
        """
        participant = await self._present_in_room(db, project_id, room_ref, participant_id)
        if ban_seconds is not None:
            await self.access.create_ban(
                db,
                project_id,
                room_id=participant.room_id,
                external_id=participant.external_id,
                ip=None if participant.external_id else participant.ip,
                duration_seconds=ban_seconds,
                reason=reason or "removed by a moderator",
            )
        return (await self.leave(db, project_id, participant.id, "kicked")).participant

    async def ban(self, db: AsyncSession, project_id: str, data: BanCreate) -> BanRule:
        room_id = (await self.rooms.get_room(db, project_id, data.room)).id if data.room else None
        return await self.access.create_ban(
            db,
            project_id,
            room_id=room_id,
            external_id=data.external_id,
            ip=data.ip,
            duration_seconds=data.duration_seconds,
            reason=data.reason,
        )

    async def unban(self, db: AsyncSession, project_id: str, ban_id: str) -> None:
        await self.access.delete_ban(db, project_id, ban_id)

    async def list_bans(
        self, db: AsyncSession, project_id: str, params: PageParams, room_ref: str | None
    ) -> tuple[list[BanRule], int]:
        room_id = (await self.rooms.get_room(db, project_id, room_ref)).id if room_ref else None
        return await self.access.list_bans(db, project_id, params, room_id)

    async def moderate_mute(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        participant_id: str,
        audio: bool | None,
        video: bool | None,
    ) -> Participant:
        """Mute someone else; the realtime layer blocks the media on ``participant.updated``."""
        participant = await self._present_in_room(db, project_id, room_ref, participant_id)
        if audio is None and video is None:
            raise ValidationFailed("give audio and/or video", code="nothing_to_mute")
        self._mute(db, participant, audio, video, moderated=True)
        return participant

    async def end_session(self, db: AsyncSession, project_id: str, session_id: str, reason: str) -> Session:
        """End a live session: everyone present leaves with ``session_ended``."""
        session = await self.get_session(db, project_id, session_id)
        if session.status != "live":
            raise Conflict("the session has already ended", code="session_ended")
        await self._close(db, session, reason=reason, at=utcnow())
        return session

    async def end_if_live(
        self, db: AsyncSession, project_id: str, session_id: str, reason: str, *, only_if_empty: bool
    ) -> bool:
        """End a session from a timer or a lost node, unless it already ended (or someone is inside)."""
        session = await self.get_session(db, project_id, session_id)
        if session.status != "live":
            return False
        if only_if_empty and await ParticipantRepository(db, project_id).count_present(session_id=session.id):
            return False
        await self._close(db, session, reason=reason, at=utcnow())
        if reason == "media_lost":
            emit(db, session_event("room.media_lost", session, media_node=session.media_node))
        return True

    async def _close(self, db: AsyncSession, session: Session, *, reason: str, at: datetime) -> None:
        for participant in await ParticipantRepository(db, session.project_id).present_in_session(session.id):
            left_at = min(at, max(participant.last_seen_at, participant.joined_at or at))
            participant.status = "left"
            participant.left_at = left_at
            participant.left_reason = "session_ended" if reason not in ("server_restart",) else reason
            participant.resume_token = None
            participant.feed_id = None
            event = participant_event(
                "participant.left",
                participant,
                reason=participant.left_reason,
                duration=participant.duration_seconds,
            )
            emit(db, DomainEvent(**{**event.__dict__, "occurred_at": left_at}))
        session.status = "ended"
        session.ended_at = at
        session.end_reason = reason
        room = await db.get(Room, session.room_id)
        if room is not None:
            self.rooms.mark_session_over(room)
        duration = int((at - session.started_at).total_seconds())
        event = session_event(
            "session.ended", session, ended_at=isoformat(at), reason=reason, duration=duration
        )
        emit(db, DomainEvent(**{**event.__dict__, "occurred_at": at}))

    # -- crash safety ------------------------------------------------------------------------

    async def heartbeat(self, db: AsyncSession) -> None:
        await touch_sessions(db, self.instance_id, utcnow())

    async def close_stale(self, db: AsyncSession, *, stale_after: timedelta | None) -> list[str]:
        """Close sessions another (dead) instance left open, ending them when it last beat.

        At start-up of a single-instance deployment every foreign live session is stale
        (``stale_after=None``); with several replicas a periodic sweep uses a threshold.
        """
        older_than = utcnow() - stale_after if stale_after is not None else None
        closed = []
        for session in await stale_live_sessions(
            db, exclude_instance=self.instance_id, older_than=older_than
        ):
            await self._close(db, session, reason="server_restart", at=session.heartbeat_at)
            closed.append(session.id)
        return closed

    # -- reads -------------------------------------------------------------------------------

    async def get_session(self, db: AsyncSession, project_id: str, session_id: str) -> Session:
        session = await SessionRepository(db, project_id).get(session_id)
        if session is None:
            raise NotFound(f"session {session_id!r} not found", code="session_not_found")
        return session

    async def list_sessions(
        self,
        db: AsyncSession,
        project_id: str,
        params: PageParams,
        *,
        room_ref: str | None,
        status: str | None,
    ) -> tuple[list[Session], int]:
        room_id = (await self.rooms.get_room(db, project_id, room_ref)).id if room_ref else None
        cursor = await self.get_session(db, project_id, params.after) if params.after else None
        return await SessionRepository(db, project_id).page(
            params, room_id=room_id, status=status, cursor=cursor
        )

    async def list_participants(
        self,
        db: AsyncSession,
        project_id: str,
        params: PageParams,
        *,
        session_id: str | None = None,
        room_ref: str | None = None,
        external_id: str | None = None,
    ) -> tuple[list[Participant], int]:
        if session_id is not None:
            await self.get_session(db, project_id, session_id)
        room_id = (await self.rooms.get_room(db, project_id, room_ref)).id if room_ref else None
        cursor = await self._participant(db, project_id, params.after) if params.after else None
        return await ParticipantRepository(db, project_id).page(
            params, session_id=session_id, room_id=room_id, external_id=external_id, cursor=cursor
        )

    async def live_session(self, db: AsyncSession, project_id: str, room_id: str) -> Session | None:
        return await SessionRepository(db, project_id).live_for_room(room_id)

    async def set_hand(
        self, db: AsyncSession, project_id: str, participant_id: str, raised: bool
    ) -> Participant:
        participant = await self._participant(db, project_id, participant_id)
        participant.hand_raised = raised
        self._updated(db, participant)
        return participant

    async def get_participant(self, db: AsyncSession, project_id: str, participant_id: str) -> Participant:
        return await self._participant(db, project_id, participant_id)

    async def participant_sessions(
        self, db: AsyncSession, project_id: str, participant_id: str, params: PageParams
    ) -> tuple[list[Session], int]:
        participant = await self._participant(db, project_id, participant_id)
        cursor = await self.get_session(db, project_id, params.after) if params.after else None
        return await SessionRepository(db, project_id).page_of_identity(params, participant, cursor)

    async def session_statistics(self, db: AsyncSession, project_id: str, session_id: str) -> dict[str, Any]:
        session = await self.get_session(db, project_id, session_id)
        stats = await ParticipantRepository(db, project_id).session_stats(session.id)
        live = await ParticipantRepository(db, project_id).count_present(session_id=session.id)
        end = session.ended_at or utcnow()
        return {
            "session_id": session.id,
            "room_id": session.room_id,
            "status": session.status,
            "started_at": session.started_at,
            "ended_at": session.ended_at,
            "duration": int((end - session.started_at).total_seconds()),
            "participants_total": stats["participants"],
            "participants_unique": stats["distinct_external_ids"],
            "participants_live": live,
            "peak_participants": session.peak_participants,
        }

    async def live_count(self, db: AsyncSession, project_id: str, room_ref: str | None) -> int:
        repository = ParticipantRepository(db, project_id)
        if room_ref is None:
            return await repository.count_present()
        room = await self.rooms.get_room(db, project_id, room_ref)
        live = await SessionRepository(db, project_id).live_for_room(room.id)
        return 0 if live is None else await repository.count_present(session_id=live.id)

    # -- data deletion (appended for the retention domain) -----------------------------------

    async def anonymise_participants(
        self,
        db: AsyncSession,
        project_id: str,
        *,
        session_id: str | None = None,
        room_ids: list[str] | None = None,
    ) -> int:
        """``delete_history``: participants keep their times and roles but lose name, external id, ip, UA."""
        if session_id is not None:
            await self.get_session(db, project_id, session_id)
        count = await anonymise_participants(db, project_id, session_id=session_id, room_ids=room_ids)
        # Rows already loaded in this unit of work must not write the old values back.
        for participant in [o for o in db.identity_map.values() if isinstance(o, Participant)]:
            if participant.project_id == project_id and (
                participant.session_id == session_id
                or (room_ids is not None and participant.room_id in room_ids)
            ):
                db.expire(participant)
        return count

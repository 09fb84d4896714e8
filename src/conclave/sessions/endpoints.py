"""Native routes for sessions, participants, live counts and REST moderation."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from conclave.access.schemas import BanCreate, BanOut
from conclave.kit.pagination import Page, PageParams, page_params
from conclave.kit.routing import TransactionalRoute, from_state
from conclave.sessions.models import Participant
from conclave.sessions.schemas import (
    KickRequest,
    LiveCount,
    MuteRequest,
    ParticipantOut,
    SessionOut,
    SessionStatistics,
)
from conclave.sessions.service import SessionService
from conclave.tenancy.auth import CurrentProject, Session

Sessions = Annotated[SessionService, Depends(from_state("sessions"))]
Pagination = Annotated[PageParams, Depends(page_params)]
router = APIRouter(prefix="/api/v1", tags=["sessions"], route_class=TransactionalRoute)


def participant_out(participant: Participant) -> ParticipantOut:
    return ParticipantOut.model_validate(
        {
            **{k: getattr(participant, k) for k in ParticipantOut.model_fields if k != "publishing"},
            "publishing": participant.feed_id is not None,
        }
    )


@router.get("/sessions", response_model=Page[SessionOut])
async def list_sessions(
    project: CurrentProject,
    db: Session,
    sessions: Sessions,
    page: Pagination,
    room: Annotated[str | None, Query(description="Room id or friendly_url.")] = None,
    status: Annotated[Literal["live", "ended"] | None, Query()] = None,
) -> Page[SessionOut]:
    rows, total = await sessions.list_sessions(db, project.id, page, room_ref=room, status=status)
    return Page(total_count=total, data=[SessionOut.model_validate(row) for row in rows])


@router.get("/sessions/{session_id}", response_model=SessionOut)
async def get_session(
    session_id: str, project: CurrentProject, db: Session, sessions: Sessions
) -> SessionOut:
    return SessionOut.model_validate(await sessions.get_session(db, project.id, session_id))


@router.get("/sessions/{session_id}/participants", response_model=Page[ParticipantOut])
async def list_session_participants(
    session_id: str, project: CurrentProject, db: Session, sessions: Sessions, page: Pagination
) -> Page[ParticipantOut]:
    rows, total = await sessions.list_participants(db, project.id, page, session_id=session_id)
    return Page(total_count=total, data=[participant_out(row) for row in rows])


@router.get("/sessions/{session_id}/statistics", response_model=SessionStatistics)
async def get_session_statistics(
    session_id: str, project: CurrentProject, db: Session, sessions: Sessions
) -> SessionStatistics:
    return SessionStatistics.model_validate(await sessions.session_statistics(db, project.id, session_id))


@router.post("/sessions/{session_id}/end", response_model=SessionOut)
async def end_session(
    session_id: str, project: CurrentProject, db: Session, sessions: Sessions
) -> SessionOut:
    """End a live session: everyone is disconnected and the room's media is released."""
    return SessionOut.model_validate(await sessions.end_session(db, project.id, session_id, "ended_by_api"))


@router.get("/participants", response_model=Page[ParticipantOut])
async def list_participants(
    project: CurrentProject,
    db: Session,
    sessions: Sessions,
    page: Pagination,
    room: Annotated[str | None, Query(description="Room id or friendly_url.")] = None,
    external_id: Annotated[str | None, Query()] = None,
) -> Page[ParticipantOut]:
    rows, total = await sessions.list_participants(
        db, project.id, page, room_ref=room, external_id=external_id
    )
    return Page(total_count=total, data=[participant_out(row) for row in rows])


@router.get("/participants/{participant_id}", response_model=ParticipantOut)
async def get_participant(
    participant_id: str, project: CurrentProject, db: Session, sessions: Sessions
) -> ParticipantOut:
    return participant_out(await sessions.get_participant(db, project.id, participant_id))


@router.get("/participants/{participant_id}/sessions", response_model=Page[SessionOut])
async def list_participant_sessions(
    participant_id: str, project: CurrentProject, db: Session, sessions: Sessions, page: Pagination
) -> Page[SessionOut]:
    """Sessions this person attended (matched by external id when the token carried one)."""
    rows, total = await sessions.participant_sessions(db, project.id, participant_id, page)
    return Page(total_count=total, data=[SessionOut.model_validate(row) for row in rows])


@router.get("/rooms/{room}/live/count", response_model=LiveCount, tags=["live"])
async def room_live_count(room: str, project: CurrentProject, db: Session, sessions: Sessions) -> LiveCount:
    return LiveCount(live_participants=await sessions.live_count(db, project.id, room))


@router.get("/live/count", response_model=LiveCount, tags=["live"])
async def project_live_count(project: CurrentProject, db: Session, sessions: Sessions) -> LiveCount:
    return LiveCount(live_participants=await sessions.live_count(db, project.id, None))


@router.post(
    "/rooms/{room}/participants/{participant_id}/kick", response_model=ParticipantOut, tags=["moderation"]
)
async def kick_participant(
    room: str,
    participant_id: str,
    project: CurrentProject,
    db: Session,
    sessions: Sessions,
    body: KickRequest | None = None,
) -> ParticipantOut:
    """Remove a participant from the meeting (their media and socket are closed), optionally banning them."""
    ban = body.ban_seconds if body else None
    reason = body.reason if body else None
    return participant_out(
        await sessions.kick(db, project.id, room, participant_id, ban_seconds=ban, reason=reason)
    )


@router.post(
    "/rooms/{room}/participants/{participant_id}/mute", response_model=ParticipantOut, tags=["moderation"]
)
async def mute_participant(
    room: str,
    participant_id: str,
    body: MuteRequest,
    project: CurrentProject,
    db: Session,
    sessions: Sessions,
) -> ParticipantOut:
    """Stop (true) or allow again (false) relaying a participant's audio and/or video."""
    return participant_out(
        await sessions.moderate_mute(db, project.id, room, participant_id, body.audio, body.video)
    )


@router.get("/bans", response_model=Page[BanOut], tags=["moderation"])
async def list_bans(
    project: CurrentProject,
    db: Session,
    sessions: Sessions,
    page: Pagination,
    room: Annotated[str | None, Query(description="Only bans of this room.")] = None,
) -> Page[BanOut]:
    rows, total = await sessions.list_bans(db, project.id, page, room)
    return Page(total_count=total, data=[BanOut.model_validate(row) for row in rows])


@router.post("/bans", response_model=BanOut, tags=["moderation"])
async def create_ban(body: BanCreate, project: CurrentProject, db: Session, sessions: Sessions) -> BanOut:
    """Keep a user (external id) or an IP out of one room or of every room of the project."""
    return BanOut.model_validate(await sessions.ban(db, project.id, body))


@router.delete("/bans/{ban_id}", status_code=204, tags=["moderation"])
async def delete_ban(ban_id: str, project: CurrentProject, db: Session, sessions: Sessions) -> None:
    await sessions.unban(db, project.id, ban_id)

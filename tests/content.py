"""Helpers for the in-meeting content tests: real sessions and participants without a media server.

Admission goes through ``SessionService.enter`` exactly as the signalling layer calls it; only
the WebSocket and Janus are absent (the realtime tests cover those with a real server).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from conclave.access.permissions import BUILT_IN_ROLES, permission_map
from conclave.kit.transaction import transaction
from conclave.sessions.service import JoinTicket
from tests.factories import ProjectKeys


@dataclass(frozen=True)
class Joined:
    session_id: str
    participant_id: str


async def join(
    app: FastAPI,
    project: ProjectKeys,
    room_id: str,
    name: str = "Ann",
    external_id: str | None = None,
    role: str = "attendee",
) -> Joined:
    ticket = JoinTicket(
        room_id=room_id,
        project_id=project.id,
        role=role,
        permissions=permission_map(BUILT_IN_ROLES[role][1]),
        name=name,
        external_id=external_id,
        jti=None,
        needs_admission=False,
    )
    async with transaction(app.state.sessionmaker, app.state.bus) as db:
        entered = await app.state.sessions.enter(
            db, ticket, ip="203.0.113.7", user_agent="pytest", media_node=None
        )
    return Joined(session_id=entered.session.id, participant_id=entered.participant.id)

"""Native shapes for sessions, participants, statistics and live counts."""

from __future__ import annotations

from pydantic import Field

from conclave.kit.schemas import RequestModel, ResponseModel, Timestamp


class SessionOut(ResponseModel):
    id: str
    room_id: str
    status: str
    started_at: Timestamp
    ended_at: Timestamp | None
    end_reason: str | None
    peak_participants: int
    media_node: str | None


class ParticipantOut(ResponseModel):
    id: str
    session_id: str
    room_id: str
    external_id: str | None
    name: str
    role: str
    status: str
    joined_at: Timestamp | None
    left_at: Timestamp | None
    left_reason: str | None
    duration_seconds: int | None
    ip: str | None
    user_agent: str | None
    audio_muted: bool
    video_muted: bool
    publishing: bool


class SessionStatistics(ResponseModel):
    session_id: str
    room_id: str
    status: str
    started_at: Timestamp
    ended_at: Timestamp | None
    duration: int = Field(description="Seconds, up to now for a live session.")
    participants_total: int
    participants_unique: int
    participants_live: int
    peak_participants: int


class LiveCount(ResponseModel):
    live_participants: int


class MuteRequest(RequestModel):
    audio: bool | None = None
    video: bool | None = None


class KickRequest(RequestModel):
    ban_seconds: int | None = Field(
        default=None,
        ge=1,
        le=10 * 365 * 24 * 3600,
        description="Also keep them out of this room for this long.",
    )
    reason: str | None = Field(default=None, max_length=500)

"""Statistics shapes: totals over a date range plus one row per UTC day."""

from __future__ import annotations

from datetime import date

from conclave.kit.schemas import ResponseModel, Timestamp


class Range(ResponseModel):
    date_start: Timestamp
    date_end: Timestamp


class RoomDay(ResponseModel):
    date: date
    rooms_created: int
    active_rooms: int
    sessions: int


class RoomStatistics(Range):
    total_rooms: int
    rooms_created: int
    active_rooms: int
    live_rooms: int
    per_day: list[RoomDay]


class SessionDay(ResponseModel):
    date: date
    sessions: int
    minutes: int
    peak_participants: int


class SessionStatistics(Range):
    total_sessions: int
    live_sessions: int
    total_minutes: int
    average_minutes: float
    peak_participants: int
    per_day: list[SessionDay]


class ParticipantDay(ResponseModel):
    date: date
    participants: int
    unique_participants: int
    minutes: int
    peak_concurrent: int


class ParticipantStatistics(Range):
    total_participants: int
    unique_participants: int
    total_minutes: int
    average_minutes: float
    peak_concurrent: int
    per_day: list[ParticipantDay]


class RecordingDay(ResponseModel):
    date: date
    recordings: int
    minutes: int
    bytes: int


class RecordingStatistics(Range):
    total_recordings: int
    ready: int
    failed: int
    in_progress: int
    total_minutes: int
    total_bytes: int
    per_day: list[RecordingDay]

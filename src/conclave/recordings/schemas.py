"""Native shapes for recordings (Digital Samba conventions, lowercase statuses)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from conclave.kit.schemas import RequestModel, ResponseModel, Timestamp

RecordingMode = Literal["composite", "individual", "audio"]
RecordingStatus = Literal["in_progress", "processing", "ready", "failed"]


class RecordingStart(RequestModel):
    mode: RecordingMode | None = Field(
        default=None,
        description="composite (one MP4 grid + mixed audio), individual (one file per track) or audio "
        "(one M4A mix). Default: composite, or audio in audio rooms.",
    )


class RecordingFileOut(ResponseModel):
    id: str
    kind: str = Field(description="composite, audio, track or archive (a ZIP of the tracks).")
    filename: str
    content_type: str
    size: int
    duration: float | None
    start_offset: float = Field(description="Seconds after the recording's first media.")
    feed_id: int | None
    participant_id: str | None
    participant_name: str | None


class RecordingOut(ResponseModel):
    id: str
    room_id: str
    session_id: str
    mode: RecordingMode
    status: RecordingStatus
    archived: bool
    started_by: str
    started_at: Timestamp
    stopped_at: Timestamp | None
    ready_at: Timestamp | None
    duration: float | None = Field(description="Seconds of the produced media.")
    size: int | None = Field(description="Bytes of the main download.")
    error: str | None
    files: list[RecordingFileOut]
    created_at: Timestamp
    updated_at: Timestamp


class RecordingLink(ResponseModel):
    url: str
    expires_at: Timestamp


class DeletedCount(ResponseModel):
    deleted: int

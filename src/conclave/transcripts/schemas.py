"""Native transcript and summary shapes (Digital Samba reference) and the ``caption`` realtime message."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from conclave.kit.schemas import RequestModel, ResponseModel, Timestamp

Locale = Literal["en", "it", "de", "es"]


class ExportOptions(RequestModel):
    """The reference's optional body on the export GET (query parameters work too)."""

    locale: Locale | None = None
    lang: Locale | None = None


class SegmentOut(ResponseModel):
    id: str
    session_id: str
    participant_id: str | None
    participant_name: str | None
    transcript: str
    language: str | None
    start_time: Timestamp
    end_time: Timestamp


class SummaryOut(ResponseModel):
    job_id: str
    status: str
    summary: str


class CaptionMessage(BaseModel):
    """A caption line from a speech recognizer in the meeting (a browser or a transcription bot)."""

    model_config = ConfigDict(extra="ignore")

    id: str | int | None = None
    type: Literal["caption"]
    text: str = Field(min_length=1, max_length=2000)
    final: bool = True
    # Seconds since the epoch; default: the line ends now and started when it was received.
    start_time: float | None = Field(default=None, ge=0)
    end_time: float | None = Field(default=None, ge=0)
    # A bot transcribing someone else names the speaker (a participant of the same session).
    speaker_id: str | None = Field(default=None, max_length=36)
    language: str | None = Field(default=None, max_length=16)

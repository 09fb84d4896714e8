"""Native chat shapes (Digital Samba reference)."""

from __future__ import annotations

from pydantic import Field

from conclave.kit.schemas import RequestModel, ResponseModel, Timestamp


class ChatPost(RequestModel):
    message: str = Field(min_length=1, max_length=4000)


class ChatMessageOut(ResponseModel):
    id: str
    message: str
    participant_id: str | None
    participant_name: str | None
    external_participant_id: str | None
    breakout_id: str | None
    session_id: str | None
    private: bool
    created_at: Timestamp

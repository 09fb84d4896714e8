"""Native library shapes and the ``library_share`` realtime message."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from conclave.kit.schemas import RequestModel, ResponseModel, Timestamp


class LibraryCreate(RequestModel):
    name: str = Field(min_length=1, max_length=255)
    room: str | None = Field(default=None, description="Room id or friendly_url: the room's own library.")


class LibraryOut(ResponseModel):
    id: str
    name: str
    room_id: str | None
    created_at: Timestamp


class LibraryFileOut(ResponseModel):
    id: str
    library_id: str
    name: str
    content_type: str
    size: int
    sha256: str
    created_at: Timestamp


class ShareRequest(RequestModel):
    room: str = Field(min_length=1, max_length=255)
    message: str | None = Field(default=None, max_length=1000)


class ShareOut(ResponseModel):
    message_id: str
    url: str
    expires_at: Timestamp


class ShareMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int | None = None
    type: Literal["library_share"]
    file_id: str = Field(max_length=36)
    message: str | None = Field(default=None, max_length=1000)

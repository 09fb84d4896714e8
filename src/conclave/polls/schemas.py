"""Native poll shapes (Digital Samba reference, plus launch/end/results) and the poll realtime messages."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from conclave.kit.schemas import RequestModel, ResponseModel, Timestamp

PollType = Literal["single", "multiple", "free"]
MAX_OPTIONS = 50


class PollOptionIn(RequestModel):
    id: str | None = Field(default=None, min_length=36, max_length=36, pattern=r"^[0-9a-fA-F-]{36}$")
    label: str = Field(min_length=1, max_length=512)


class PollCreate(RequestModel):
    question: str = Field(min_length=1, max_length=1000)
    type: PollType | None = None
    multiple: bool | None = Field(default=None, description="Deprecated: use type='multiple'.")
    anonymous: bool = False
    options: list[PollOptionIn] = Field(default_factory=list, max_length=MAX_OPTIONS)

    @model_validator(mode="after")
    def _consistent(self) -> PollCreate:
        if self.type is None:
            self.type = "multiple" if self.multiple else "single"
        elif self.multiple is not None and self.multiple != (self.type == "multiple"):
            raise ValueError("the deprecated 'multiple' flag contradicts 'type'")
        if self.type == "free":
            if self.options:
                raise ValueError("a free-text poll has no options")
        elif len(self.options) < 2:
            raise ValueError(f"a {self.type} choice poll needs at least 2 options")
        ids = [o.id.lower() for o in self.options if o.id]
        if len(ids) != len(set(ids)):
            raise ValueError("option ids must be unique")
        return self


class PollOptionOut(ResponseModel):
    id: str
    label: str


class PollOut(ResponseModel):
    id: str
    question: str
    status: str
    type: str
    anonymous: bool
    options: list[PollOptionOut]
    session_id: str | None
    launched_at: Timestamp | None
    ended_at: Timestamp | None
    created_at: Timestamp


class Voter(ResponseModel):
    id: str
    name: str | None


class OptionResult(ResponseModel):
    id: str
    label: str
    voted: int
    voters: list[Voter]


class FreeAnswer(ResponseModel):
    text: str
    voter: Voter | None


class PollResults(ResponseModel):
    id: str
    question: str
    type: str
    status: str
    anonymous: bool
    session_id: str | None
    voted: int
    options: list[OptionResult]
    answers: list[FreeAnswer]


class PollImportOut(ResponseModel):
    imported: int
    data: list[PollOut]


# -- realtime messages -----------------------------------------------------------------------


class _LiveMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int | None = None


class PollVoteMessage(_LiveMessage):
    type: Literal["poll_vote"]
    poll_id: str = Field(max_length=36)
    option_ids: list[str] = Field(default_factory=list, max_length=MAX_OPTIONS)
    text: str | None = Field(default=None, min_length=1, max_length=1000)


class PollLaunchMessage(_LiveMessage):
    type: Literal["poll_launch"]
    poll_id: str = Field(max_length=36)


class PollEndMessage(_LiveMessage):
    type: Literal["poll_end"]
    poll_id: str = Field(max_length=36)

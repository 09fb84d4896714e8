"""Native quiz shapes (Digital Samba reference constraints) and the quiz realtime messages."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from conclave.kit.schemas import RequestModel, ResponseModel, Timestamp

TimingMode = Literal["quiz", "question"]


class ChoiceIn(RequestModel):
    id: str | None = Field(default=None, max_length=36)
    text: str = Field(min_length=1, max_length=512)
    correct: bool = False


class QuestionIn(RequestModel):
    id: str | None = Field(default=None, max_length=36)
    text: str = Field(min_length=1, max_length=512)
    multiple: bool = False
    choices: list[ChoiceIn] = Field(default_factory=list, max_length=20)


def _check_limits(minutes: int | None, seconds: int | None) -> None:
    if minutes is not None and seconds is not None:
        raise ValueError("give time_limit_minutes or time_limit_seconds, not both")


class QuizCreate(RequestModel):
    title: str = Field(min_length=1, max_length=512)
    time_limit_minutes: int | None = Field(default=None, ge=1, le=1440)
    time_limit_seconds: int | None = Field(default=None, ge=1, le=86400)
    timing_mode: TimingMode | None = None
    questions: list[QuestionIn] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _limits(self) -> QuizCreate:
        _check_limits(self.time_limit_minutes, self.time_limit_seconds)
        return self


class QuizUpdate(RequestModel):
    """Items with an ``id`` are updated, items without one are created; unlisted items stay."""

    title: str | None = Field(default=None, min_length=1, max_length=512)
    time_limit_minutes: int | None = Field(default=None, ge=1, le=1440)
    time_limit_seconds: int | None = Field(default=None, ge=1, le=86400)
    timing_mode: TimingMode | None = None
    questions: list[QuestionIn] | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _limits(self) -> QuizUpdate:
        _check_limits(self.time_limit_minutes, self.time_limit_seconds)
        return self


class ChoiceOut(ResponseModel):
    id: str
    text: str
    correct: bool


class QuestionOut(ResponseModel):
    id: str
    text: str
    multiple: bool
    choices: list[ChoiceOut]


class QuizSummaryOut(ResponseModel):
    id: str
    title: str
    time_limit_minutes: int | None
    time_limit_seconds: int | None
    timing_mode: str | None
    status: str
    created_at: Timestamp


class QuizOut(QuizSummaryOut):
    questions: list[QuestionOut]
    updated_at: Timestamp


class QuizImportOut(ResponseModel):
    imported: int
    data: list[QuizOut]


# -- realtime messages -----------------------------------------------------------------------


class _LiveMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int | None = None


class QuizLaunchMessage(_LiveMessage):
    type: Literal["quiz_launch"]
    quiz_id: str = Field(max_length=36)


class QuizEndMessage(_LiveMessage):
    type: Literal["quiz_end"]
    quiz_id: str = Field(max_length=36)


class QuizAnswerMessage(_LiveMessage):
    type: Literal["quiz_answer"]
    quiz_id: str = Field(max_length=36)
    question_id: str = Field(max_length=36)
    choice_ids: list[str] = Field(min_length=1, max_length=20)

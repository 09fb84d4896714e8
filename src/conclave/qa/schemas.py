"""Native Q&A shapes (Digital Samba reference) and the Q&A realtime messages."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from conclave.kit.schemas import RequestModel, ResponseModel, Timestamp


class ParticipantRef(RequestModel):
    """The actor of a Q&A call: ``{"id"}`` of a participant of the room, or ``{"name", "external_id"}``."""

    id: str | None = Field(default=None, min_length=1, max_length=36)
    name: str | None = Field(default=None, min_length=1, max_length=255)
    external_id: str | None = Field(default=None, min_length=1, max_length=255)

    @model_validator(mode="after")
    def _one_form(self) -> ParticipantRef:
        if self.id is not None:
            if self.name is not None or self.external_id is not None:
                raise ValueError("give either {id} or {name, external_id}, not both")
        elif self.name is None or self.external_id is None:
            raise ValueError("participant needs {id} or both name and external_id")
        return self


class ActorBody(RequestModel):
    participant: ParticipantRef


class QuestionCreate(RequestModel):
    participant: ParticipantRef
    question: str = Field(min_length=1, max_length=2000)
    anonymous: bool = False
    breakout_id: str | None = Field(default=None, max_length=64)


class QuestionUpdate(RequestModel):
    participant: ParticipantRef
    question: str = Field(min_length=1, max_length=2000)


class AnswerCreate(RequestModel):
    participant: ParticipantRef
    answer: str = Field(min_length=1, max_length=4000)
    private: bool = False


class AnswerUpdate(RequestModel):
    participant: ParticipantRef
    answer: str = Field(min_length=1, max_length=4000)


class AnswerOut(ResponseModel):
    id: str
    answer: str
    participant_id: str | None
    participant_name: str | None
    external_participant_id: str | None
    private: bool
    created_at: Timestamp
    updated_at: Timestamp


class LiveAnswerOut(ResponseModel):
    status: str
    participant_name: str | None


class QuestionOut(ResponseModel):
    id: str
    question: str
    participant_id: str | None
    participant_name: str | None
    external_participant_id: str | None
    anonymous: bool
    breakout_id: str | None
    session_id: str | None
    status: str
    votes: int
    live_answer: LiveAnswerOut | None
    answers: list[AnswerOut]
    created_at: Timestamp
    updated_at: Timestamp


# -- realtime messages (docs/realtime-protocol.md) -------------------------------------------


class _LiveMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int | None = None


class AskMessage(_LiveMessage):
    type: Literal["question"]
    question: str = Field(min_length=1, max_length=2000)
    anonymous: bool = False


class VoteMessage(_LiveMessage):
    type: Literal["question_vote"]
    question_id: str = Field(max_length=36)
    vote: bool = True


class AnswerMessage(_LiveMessage):
    type: Literal["answer"]
    question_id: str = Field(max_length=36)
    answer: str = Field(min_length=1, max_length=4000)
    private: bool = False


class ModerateQuestionMessage(_LiveMessage):
    type: Literal["question_moderate"]
    question_id: str = Field(max_length=36)
    action: Literal["dismiss", "reopen", "delete", "live_start", "live_stop", "live_cancel"]

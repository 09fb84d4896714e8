"""Native request/response models of webhook endpoints and their deliveries."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from conclave.events.schemas import is_known_pattern
from conclave.kit.schemas import RequestModel, ResponseModel, Timestamp

_URL_HELP = "The receiver's http(s) URL."
_SECRET_HELP = "HMAC key for X-Signature (at least 16 characters); generated when omitted."
_EVENTS_HELP = "Event types to receive (`room.*` for a family, `*` or empty for all)."


def _check_events(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    unknown = [name for name in value if not is_known_pattern(name)]
    if unknown:
        raise ValueError(f"unknown event types: {', '.join(unknown)}")
    return list(dict.fromkeys(value))


class WebhookCreate(RequestModel):
    endpoint: str = Field(min_length=1, max_length=2048, description=_URL_HELP)
    events: list[str] = Field(default_factory=list, max_length=100, description=_EVENTS_HELP)
    secret: str | None = Field(default=None, min_length=16, max_length=200, description=_SECRET_HELP)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool = True

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        checked = _check_events(value)
        assert checked is not None
        return checked


class WebhookUpdate(RequestModel):
    endpoint: str | None = Field(default=None, min_length=1, max_length=2048, description=_URL_HELP)
    events: list[str] | None = Field(default=None, max_length=100, description=_EVENTS_HELP)
    secret: str | None = Field(default=None, min_length=16, max_length=200, description=_SECRET_HELP)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str] | None) -> list[str] | None:
        return _check_events(value)

    @model_validator(mode="after")
    def _no_nulls(self) -> WebhookUpdate:
        for name in ("endpoint", "events", "secret", "enabled"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self


class WebhookOut(ResponseModel):
    id: str
    endpoint: str
    events: list[str]
    secret: str
    description: str | None
    enabled: bool
    source: Literal["api", "project"]
    consecutive_failures: int
    disabled_reason: str | None
    disabled_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class DeliveryOut(ResponseModel):
    id: str
    webhook_id: str = Field(validation_alias="endpoint_id")
    event_id: str
    event: str = Field(validation_alias="event_type")
    room_id: str | None
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_response: str | None
    last_attempt_at: Timestamp | None
    next_attempt_at: Timestamp | None
    delivered_at: Timestamp | None
    created_at: Timestamp
    payload: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, row: Any) -> Any:
        if isinstance(row, dict):
            return row
        values = {
            name: getattr(row, name)
            for name in (
                "id",
                "endpoint_id",
                "event_id",
                "event_type",
                "room_id",
                "status",
                "attempts",
                "last_status_code",
                "last_error",
                "last_response",
                "last_attempt_at",
                "delivered_at",
                "created_at",
            )
        }
        values["next_attempt_at"] = row.next_attempt_at if row.status == "pending" else None
        values["payload"] = json.loads(row.body)
        return values

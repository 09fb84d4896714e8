"""Base pydantic models shared by every native request and response."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer

from conclave.kit.time import isoformat


class RequestModel(BaseModel):
    """Strict input: wrong JSON types are errors, never coerced, and unknown fields are refused."""

    model_config = ConfigDict(strict=True, extra="forbid")


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Timestamp = Annotated[datetime, PlainSerializer(isoformat, return_type=str)]

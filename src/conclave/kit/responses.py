"""A response model sent as JSON that pydantic writes in one call, for the hottest routes.

Why: when a route returns a model, FastAPI validates it again against ``response_model``, turns it
into Python objects and encodes those with ``json.dumps``: for a 40-field room, three passes where
one does. A route that returns a ``Response`` skips all of it (FastAPI's
"Return a Response directly"). The route keeps its ``response_model``, so the OpenAPI document is
unchanged, and the body is byte-for-byte what pydantic's JSON mode gives.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


class ModelResponse(Response):
    media_type = "application/json"

    def __init__(self, model: BaseModel, status_code: int = 200) -> None:
        super().__init__(model.__pydantic_serializer__.to_json(model, by_alias=True), status_code)

"""``conclave serve`` plus reference routes that bound what token- and room-shaped routes can reach.

Why: ``api_throughput.py`` divides each scenario by ``GET /healthz``. That ratio mixes Conclave's own
work with what the framework charges for a route that takes a path parameter and a JSON body and
returns a model, which ``/healthz`` does not pay. These routes measure the two parts separately, on
the same server and in the same run, served as the hot routes are (``kit.direct_route.DirectRoute``,
tried first, see ``kit.route_index.serve_first``):

- ``framework-floor``: the token route's shape (path parameter, the request, an optional
  ``TokenRequest`` body, a ``TokenOut`` sent as ``kit.responses.ModelResponse``) with no work at
  all. No route of that shape can do better.
- ``auth-floor``: the same, plus the real project authentication (through its cache, see
  ``kit.read_cache``, and the request's ``AsyncSession``) and the real transaction handling, but no
  write and no JWT.
- ``room-floor``: the create-room route's shape (the request, an optional ``RoomCreate`` body, a
  ``RoomOut`` of a default room validated and sent as a ``ModelResponse``) with no work at all. No
  route that creates a room can do better.

They are benchmark-only: they are added here, never by ``create_app``, and they sit first in the
route table so their figures are the most favourable a route of their shape can get.

Run by ``_server.running_server(..., reference_routes=True)`` as ``python _reference_server.py``,
configured by the same ``CONCLAVE_*`` environment as ``conclave serve``.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from conclave.access.schemas import TokenOut, TokenRequest
from conclave.app import create_app
from conclave.cli import serve_application
from conclave.config import Settings
from conclave.kit.direct_route import DirectRoute
from conclave.kit.responses import ModelResponse
from conclave.kit.route_index import serve_first
from conclave.kit.time import utcnow
from conclave.rooms.schemas import RoomCreate, RoomOut
from conclave.rooms.settings import project_defaults
from conclave.tenancy.auth import CurrentProject

PREFIX = "/_bench/rooms"
FRAMEWORK_FLOOR_PATH = PREFIX + "/{room}/framework-floor"
AUTH_FLOOR_PATH = PREFIX + "/{room}/auth-floor"
ROOM_FLOOR_PATH = PREFIX + "/room-floor"
# As long as a real token: an HS256 JWT with the claims the bench sends is about 330 characters.
_TOKEN = "x" * 330
_LINK = "http://127.0.0.1:8000/meet/bench?token=" + _TOKEN
# What create-room answers for {"description": "bench"} with a project's default settings.
_ROOM: dict[str, Any] = {
    **project_defaults({}),
    "domain": None,
    "id": str(uuid.uuid4()),
    "friendly_url": "bench-room-floor",
    "external_id": None,
    "name": None,
    "description": "bench",
    "kind": "video",
    "room_url": "http://127.0.0.1:8000/meet/bench-room-floor",
    "status": "idle",
    "empty_timeout": None,
    "tags": [],
    "metadata": {},
    "scheduled_start_at": None,
    "nbf": None,
    "exp": None,
    "scene_id": None,
    "return_url": None,
    "created_at": utcnow(),
    "updated_at": utcnow(),
}
RoomOut.model_validate(_ROOM)  # fail at start-up, not mid-run, if RoomOut changes


def reference_router() -> APIRouter:
    # Served as the hot routes are: direct routes (``kit.direct_route``) tried first.
    router = APIRouter(route_class=DirectRoute, include_in_schema=False)

    @router.post(FRAMEWORK_FLOOR_PATH, response_model=TokenOut)
    async def framework_floor(room: str, request: Request, body: TokenRequest | None = None) -> ModelResponse:
        return ModelResponse(TokenOut(token=_TOKEN, link=_LINK))

    @router.post(AUTH_FLOOR_PATH, response_model=TokenOut)
    async def auth_floor(
        room: str, project: CurrentProject, body: TokenRequest | None = None
    ) -> ModelResponse:
        return ModelResponse(TokenOut(token=_TOKEN, link=_LINK))  # authenticated as the token route is

    @router.post(ROOM_FLOOR_PATH, response_model=RoomOut)
    async def room_floor(request: Request, body: RoomCreate | None = None) -> ModelResponse:
        return ModelResponse(RoomOut.model_validate(_ROOM))  # as create_room answers its new room

    return router


def application(settings: Settings) -> FastAPI:
    app = create_app(settings, settle_heap_on_start=True)
    serve_first(app, reference_router())
    return app


if __name__ == "__main__":
    settings = Settings()
    serve_application(application(settings), settings)

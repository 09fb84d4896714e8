"""The included-router guard skips only routers that could not have matched."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from starlette.routing import Match

from conclave.app import create_app
from conclave.kit.route_index import literal_head, serve_first
from tests.conftest import make_settings


def _concrete(path: str) -> str:
    """A request path that a route with this template matches: every parameter becomes ``x1``."""
    return re.sub(r"\{[^}]+\}", "x1", path)


def _scope(path: str, kind: str, method: str) -> dict[str, Any]:
    return {"type": kind, "path": path, "root_path": "", "method": method, "headers": [], "query_string": b""}


def test_literal_head_stops_at_the_first_parameter() -> None:
    assert literal_head("/api/v1/rooms/{room}/token") == "/api/v1/rooms/"
    assert literal_head("/rtc") == "/rtc"
    assert literal_head("/{region}/v1/projects") == "/"


def test_guarded_routers_match_every_route_they_hold_as_before(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", tmp_path))
    guarded = [route for route in app.router.routes if "matches" in vars(route)]
    assert len(guarded) >= 20, "the guard is no longer installed (did FastAPI's router change?)"
    checked = 0
    for route in guarded:
        for context in route.effective_route_contexts():  # type: ignore[attr-defined]
            target = context.starlette_route or context
            kind = "websocket" if "WebSocket" in type(target).__name__ else "http"
            methods = sorted(getattr(target, "methods", None) or {"GET"})
            scope = _scope(_concrete(target.path), kind, methods[0])
            unguarded = type(route).matches(route, scope)[0]
            assert route.matches(scope)[0] == unguarded, target.path
            checked += 1
        # A path outside every head of the router is refused without scanning it.
        assert route.matches(_scope("/no-such-prefix/x", "http", "GET"))[0] == Match.NONE
    assert checked > 200


def test_room_creation_and_tokens_are_tried_first(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", tmp_path))
    first = [getattr(route, "path", None) for route in app.router.routes[:2]]
    assert first == ["/api/v1/rooms", "/api/v1/rooms/{room}/token"]
    for path in ("/api/v1/rooms", "/api/v1/rooms/x1/token"):
        scope = _scope(path, "http", "POST")
        # No later route answers what they answer: putting them first changed no request's route.
        later = [route for route in app.router.routes[2:] if route.matches(scope)[0] is Match.FULL]
        assert later == []


def test_serve_first_refuses_a_route_another_route_also_answers(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", tmp_path))
    shadowing = APIRouter(prefix="/api/v1")

    @shadowing.get("/rooms/{anything}")
    async def anything(anything: str) -> None: ...

    before = list(app.router.routes)
    with pytest.raises(ValueError, match="GET /api/v1/rooms/x"):
        serve_first(app, shadowing)
    assert app.router.routes == before

"""Skip whole included routers whose paths cannot match a request, before FastAPI scans them.

Why this exists: FastAPI matches a request by trying every route in order, and an included
router is tried by trying each of its routes (twice: once to find it, once to dispatch into it).
With ~300 routes across the native API and the vendor surfaces, a request for a route near the
end paid about 0.25 ms just to be matched -- more than authenticating it. Starlette and FastAPI
offer no prefix index, so this adds one, keeping their matching exactly: a router is skipped only
when no route in it has a literal path start that the request path begins with, in which case
each of those routes would have answered ``Match.NONE`` anyway (a path regex cannot match a path
that does not start with the regex's literal head). Everything else is FastAPI's own code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette._utils import get_route_path  # the function Starlette's own routes match against
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

_PARAMETER_START = "{"


def literal_head(path: str) -> str:
    """The part of a route path before its first parameter: every matching path starts with it."""
    return path.split(_PARAMETER_START, 1)[0]


def _route_paths(route: BaseRoute) -> list[str] | None:
    """The full paths served through an included router, or None when its shape is unknown."""
    contexts: Callable[[], Iterable[Any]] | None = getattr(route, "effective_route_contexts", None)
    if contexts is None:
        return None
    paths: list[str] = []
    for context in contexts():
        target = context.starlette_route or context
        path = getattr(target, "path", None) or getattr(context, "path", None)
        if not isinstance(path, str):
            return None  # a route we cannot read: leave the whole router unguarded
        paths.append(path)
    return paths


def _guarded(route: BaseRoute, heads: tuple[str, ...]) -> Callable[[Scope], tuple[Match, Scope]]:
    original = route.matches

    def matches(scope: Scope) -> tuple[Match, Scope]:
        if not get_route_path(scope).startswith(heads):
            return Match.NONE, {}
        return original(scope)

    return matches


def index_included_routers(routes: list[BaseRoute]) -> int:
    """Guard each included router in ``routes`` by the literal heads of its paths; returns how many.

    Call once the app's routers are all included: routes added to a router later would not be
    in its guard.
    """
    guarded = 0
    for route in routes:
        paths = _route_paths(route)
        if not paths:
            continue
        heads = tuple(sorted({literal_head(path) for path in paths}))
        # An instance attribute shadows the method for the app router's loop, which calls
        # ``route.matches(scope)``; dispatch into the router (``handle``) is untouched.
        route.matches = _guarded(route, heads)  # type: ignore[method-assign,assignment]
        guarded += 1
    return guarded


def serve_first(app: FastAPI, router: APIRouter) -> None:
    """Put ``router``'s routes at the front of the app's own route list, before every other route.

    Why: FastAPI serves an included router as one entry of the app's list that, once reached, tries
    each of its routes (twice: to find the route, then to dispatch to it), and every entry ahead of
    a route is tried before it (about a µs each). For the most frequent calls only. Call it once
    every other route is in place: it refuses a route that a request any other route matches could
    reach, so the move changes which route answers no request. Only for routers whose routes are
    complete as declared (prefix and options given to ``APIRouter``, none to ``include_router``).
    The OpenAPI document lists their paths first.
    """
    for route in router.routes:
        for scope in _sample_requests(route):
            if any(other.matches(scope)[0] is Match.FULL for other in app.router.routes):
                raise ValueError(f"another route also answers {scope['method']} {scope['path']}")
    app.router.routes[0:0] = router.routes


def _sample_requests(route: BaseRoute) -> list[Scope]:
    """One request per method of ``route``, with each path parameter replaced by a plain segment."""
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        raise ValueError(f"cannot serve {route!r} first: it has no path")
    sample = re.sub(r"{[^}]*}", "x", path)
    return [
        {
            "type": "http",
            "method": method,
            "path": sample,
            "root_path": "",
            "headers": [],
            "query_string": b"",
        }
        for method in sorted(getattr(route, "methods", None) or {"GET"})
    ]

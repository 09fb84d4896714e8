"""Request-scoped database sessions committed by the route, before the response is sent.

FastAPI's yield-dependencies have moved their exit point between releases; committing in a
route class instead guarantees a client never sees a 2xx for a transaction that then fails,
and never reads its own write too early.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from conclave.kit.errors import ConclaveError
from conclave.kit.exception_handlers import as_conclave_error
from conclave.kit.text_input import has_unstorable, json_has_unstorable, refused_text, unstorable_text
from conclave.kit.transaction import finish, is_pristine

# In the ASGI scope rather than ``request.state``: a missing attribute there costs an exception.
_SCOPE_KEY = "conclave.db_session"


def from_state(attribute: str) -> Callable[[Request], Coroutine[Any, Any, Any]]:
    """A dependency returning a service wired by ``create_app`` (async: no threadpool hop)."""

    async def dependency(request: Request) -> Any:
        return getattr(request.app.state, attribute)

    dependency.__name__ = f"{attribute}_from_state"
    return dependency


# Sessions whose request ran no SQL and left nothing behind (``is_pristine``), for later requests:
# most token requests are answered from caches, and making and closing a session for each was
# about a tenth of one. Kept per sessionmaker, a few at most.
_idle_sessions: weakref.WeakKeyDictionary[async_sessionmaker[AsyncSession], list[AsyncSession]] = (
    weakref.WeakKeyDictionary()
)
MAX_IDLE_SESSIONS = 32


async def get_session(request: Request) -> AsyncSession:
    """The request's session, opened on first use."""
    session: AsyncSession | None = request.scope.get(_SCOPE_KEY)
    if session is None:
        sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
        idle = _idle_sessions.get(sessionmaker)
        session = idle.pop() if idle else sessionmaker()
        request.scope[_SCOPE_KEY] = session
    return session


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def transactional_handler(request: Request) -> Response:
            return await respond_in_transaction(request, lambda: handler(request))

        return transactional_handler


async def respond_in_transaction(request: Request, respond: Callable[[], Awaitable[Response]]) -> Response:
    """``respond()``, with the request's session committed before the response is sent (rolled back
    on an error status or an exception), after refusing text the database cannot store."""
    try:
        await _refuse_unstorable_text(request)
        response = await respond()
    except BaseException as exc:
        await _finish(request, commit=False)
        _raise_refusal_for(exc)
        raise
    try:
        await _finish(request, commit=response.status_code < 400)
    except Exception as exc:  # the flush at commit can meet the input's characters too
        _raise_refusal_for(exc)
        raise
    return response


async def _refuse_unstorable_text(request: Request) -> None:
    """Refuse text the database cannot store in the path, the query or a JSON body (see
    ``kit.text_input``); the body is read once here and cached for the route."""
    if has_unstorable(request.scope["path"]):
        raise unstorable_text()
    # Most requests have no query string; parsing an empty one still cost a few µs.
    if request.scope["query_string"] and has_unstorable(list(request.query_params.multi_items())):
        raise unstorable_text()
    if "json" in request.headers.get("content-type", "") and json_has_unstorable(await request.body()):
        raise unstorable_text()


def _raise_refusal_for(exc: BaseException) -> None:
    """Raise the 400 instead when ``exc`` came from the input's characters (``kit.text_input``)."""
    refusal = refused_text(exc)
    if refusal is not None:
        raise refusal from exc


async def _finish(request: Request, *, commit: bool) -> None:
    session: AsyncSession | None = request.scope.pop(_SCOPE_KEY, None)
    if session is None:
        return
    if is_pristine(session):
        idle = _idle_sessions.setdefault(request.app.state.sessionmaker, [])
        if len(idle) < MAX_IDLE_SESSIONS:
            idle.append(session)
            return
    await finish(session, request.app.state.bus, commit=commit)


SurfaceErrorRenderer = Callable[[Request, Exception], Coroutine[Any, Any, Response]]


def surface_route(render: SurfaceErrorRenderer) -> type[TransactionalRoute]:
    """A transactional route class whose errors come out in a compatible surface's own body.

    Services raise the same ``ConclaveError``s everywhere; each vendor surface only decides how
    they look (``render`` gets the ``ConclaveError`` or the ``RequestValidationError``). The
    transaction is already rolled back when ``render`` runs.
    """

    class SurfaceRoute(TransactionalRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def rendering_handler(request: Request) -> Response:
                try:
                    return await handler(request)
                except (ConclaveError, RequestValidationError) as exc:
                    return await render(request, exc)
                except StarletteHTTPException as exc:
                    return await render(request, as_conclave_error(exc))

            return rendering_handler

    return SurfaceRoute

"""Routes whose usual request skips FastAPI's request handling, for the hottest calls.

Why: for a route that takes a path parameter and a JSON body, FastAPI's per-request handling (the
content type read through ``email.message``, the signature solved as dependencies, two exit stacks)
cost more than everything Conclave does to issue a token; a plain Starlette route reading the same
body answered 1.4 times as many requests as ``/healthz``, FastAPI's route of that shape 0.6 times.
Neither FastAPI nor Starlette offers a lighter mode, so this adds one, as narrow as it can be:

- FastAPI still does everything it does once: it analyses the signature and writes the OpenAPI
  document from it, which stays exactly as it was.
- A request is taken here only when its content type is ``application/json`` and its body is a JSON
  object the body model accepts (as FastAPI validates it: ``json.loads``, then the model). The
  endpoint is then called with the arguments FastAPI would have passed it.
- Every other request (another or no content type, malformed JSON, a body the model refuses, no
  body where one is required) goes to FastAPI's own handler with the body replayed, so every error
  is FastAPI's, byte for byte.

Only signatures where those arguments are plain to build are accepted (checked when the route is
made): ``str`` path parameters, the ``Request``, at most one body model, and dependencies that take
nothing but the request (``tenancy.auth.CurrentProject``, ``kit.routing.get_session``, services
``from_state``); no query, header or cookie parameters. The dependencies are called in their
declared order once the body is known to be valid, so a request FastAPI would refuse for its body
reaches none of them here, and FastAPI's own handler, which calls them before reading the body,
decides what such a request gets (a bad credential still answers 401 before a bad body's 422). The
endpoint returns a ``Response`` itself (``kit.responses``), so there is no response model to apply.
"""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel, ValidationError
from starlette._exception_handler import wrap_app_handling_exceptions  # as Starlette's own routes
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from conclave.kit.routing import TransactionalRoute, respond_in_transaction

_JSON = b"application/json"


class UnsupportedDirectRoute(TypeError):
    """The endpoint's signature needs FastAPI's request handling."""


@dataclass(frozen=True)
class _Dependency:
    """A dependency that takes nothing but the request (under ``request_param``, if at all)."""

    param: str
    call: Callable[..., Awaitable[Any]]
    request_param: str | None
    use_cache: bool


@dataclass(frozen=True)
class _Call:
    """How to build the endpoint's arguments from a request, as FastAPI would."""

    path_params: tuple[str, ...]
    request_param: str | None
    body_param: str | None
    body_model: type[BaseModel] | None
    body_default: Any
    dependencies: tuple[_Dependency, ...]

    async def resolve_dependencies(self, request: Request, values: dict[str, Any]) -> None:
        """Add each dependency's value, in declared order, once per request where FastAPI would."""
        solved: dict[Callable[..., Awaitable[Any]], Any] = {}
        for dependency in self.dependencies:
            if dependency.use_cache and dependency.call in solved:
                values[dependency.param] = solved[dependency.call]
                continue
            if dependency.request_param is None:
                value = await dependency.call()
            else:
                value = await dependency.call(**{dependency.request_param: request})
            solved[dependency.call] = value
            values[dependency.param] = value

    def arguments(self, request: Request, body: bytes) -> dict[str, Any] | None:
        """The endpoint's arguments, or None when FastAPI must handle the request."""
        path_params = request.path_params
        values: dict[str, Any] = {name: path_params[name] for name in self.path_params}
        if self.request_param is not None:
            values[self.request_param] = request
        if self.body_param is not None:
            assert self.body_model is not None
            if not body:
                if self.body_default is _REQUIRED:
                    return None
                values[self.body_param] = self.body_default
                return values
            try:
                data = json.loads(body)
            except ValueError:
                return None
            if not isinstance(data, dict):
                return None
            try:
                values[self.body_param] = self.body_model.model_validate(data)
            except ValidationError:
                return None
        return values


_REQUIRED = object()


class DirectRoute(TransactionalRoute):
    """A ``TransactionalRoute`` that calls its endpoint itself for well-formed JSON requests."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self._call = _call_for(self)

    def _dependencies_overridden(self) -> bool:
        """Whether the app overrides a dependency (tests may): FastAPI applies overrides."""
        provider = self.dependency_overrides_provider
        overrides: dict[Any, Any] | None = getattr(provider, "dependency_overrides", None)
        if not overrides:
            return False
        return any(dependency.call in overrides for dependency in self._call.dependencies)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in (self.methods or ()) or not _is_json(scope):
            await super().handle(scope, receive, send)
            return
        request = Request(scope, receive, send)
        declined: list[bytes] = []

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            body = await _read_body(request)
            arguments = self._call.arguments(request, body)
            if arguments is None or self._dependencies_overridden():
                declined.append(body)
                return

            async def respond() -> Response:
                await self._call.resolve_dependencies(request, arguments)
                response: Response = await self.endpoint(**arguments)
                return response

            response = await respond_in_transaction(request, respond)
            await response(scope, receive, send)

        await wrap_app_handling_exceptions(app, request)(scope, receive, send)
        if declined:
            await super().handle(scope, _replaying(declined[0]), send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media_type: bytes = value.split(b";", 1)[0].strip().lower()
            return media_type == _JSON
    return False


async def _read_body(request: Request) -> bytes:
    """The body, or FastAPI's 400 for a body that could not be read (a client gone mid-body).

    The app sets no body size limit, whose errors FastAPI would also translate here.
    """
    try:
        return await request.body()
    except HTTPException:
        raise
    except Exception as exc:
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc


def _replaying(body: bytes) -> Receive:
    """A ``receive`` that hands FastAPI the body already read, then reports a disconnect."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _call_for(route: DirectRoute) -> _Call:
    dependant = route.dependant
    where = f"{sorted(route.methods or ())} {route.path} ({route.endpoint.__qualname__})"
    unsupported = {
        "query parameters": dependant.query_params,
        "header parameters": dependant.header_params,
        "cookie parameters": dependant.cookie_params,
        "a websocket": dependant.websocket_param_name,
        "an HTTP connection": dependant.http_connection_param_name,
        "a response parameter": dependant.response_param_name,
        "background tasks": dependant.background_tasks_param_name,
        "security scopes": dependant.security_scopes_param_name,
    }
    for what, present in unsupported.items():
        if present:
            raise UnsupportedDirectRoute(f"{where}: a direct route cannot take {what}")
    if not inspect.iscoroutinefunction(route.endpoint):
        raise UnsupportedDirectRoute(f"{where}: the endpoint must be a coroutine function")
    returns = typing.get_type_hints(route.endpoint).get("return")
    if not (isinstance(returns, type) and issubclass(returns, Response)):
        raise UnsupportedDirectRoute(f"{where}: the endpoint must be annotated to return a Response")
    for field in dependant.path_params:
        if field.field_info.annotation is not str or field.field_info.metadata or field.alias != field.name:
            raise UnsupportedDirectRoute(f"{where}: path parameter {field.name!r} must be a plain str")
    if len(dependant.body_params) > 1 or route._embed_body_fields:
        raise UnsupportedDirectRoute(f"{where}: a direct route takes at most one body model, not embedded")
    body_param = body_model = None
    body_default: Any = None
    if dependant.body_params:
        field = dependant.body_params[0]
        body_param = field.name
        body_model = _model_of(field.field_info.annotation)
        if body_model is None or field.alias != field.name or field.field_info.metadata:
            raise UnsupportedDirectRoute(f"{where}: the body must be a plain pydantic model (or None)")
        body_default = _REQUIRED if field.field_info.is_required() else field.get_default()
    return _Call(
        path_params=tuple(field.name for field in dependant.path_params),
        request_param=dependant.request_param_name,
        body_param=body_param,
        body_model=body_model,
        body_default=body_default,
        dependencies=tuple(_dependency_for(sub, where) for sub in dependant.dependencies),
    )


def _dependency_for(sub: Dependant, where: str) -> _Dependency:
    takes_more = (
        sub.dependencies
        or sub.path_params
        or sub.query_params
        or sub.header_params
        or sub.cookie_params
        or sub.body_params
        or sub.websocket_param_name
        or sub.http_connection_param_name
        or sub.response_param_name
        or sub.background_tasks_param_name
        or sub.security_scopes_param_name
    )
    call = sub.call
    if takes_more or sub.name is None or call is None or not inspect.iscoroutinefunction(call):
        raise UnsupportedDirectRoute(f"{where}: a dependency must be an async function of the request alone")
    return _Dependency(sub.name, call, sub.request_param_name, sub.use_cache)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """``Model`` for ``Model`` or ``Model | None``; None for anything else."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) == 1:
            return _model_of(members[0])
    return None

"""XRCLOUD's ``ErrorResponse``: ``{"statusCode", "method", "url", "body", "message"}`` for every error.

``body`` echoes the request's JSON object (or the text fields of a form); validation errors are 400
as in a NestJS ``ValidationPipe``, and a room's unknown ``sceneId`` is a 404 like any unknown id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from conclave.kit.errors import ConclaveError, Conflict
from conclave.kit.routing import TransactionalRoute, surface_route

log = logging.getLogger(__name__)


class PayloadTooLarge(ConclaveError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(ConclaveError):
    status_code = 415
    code = "unsupported_media_type"


class MethodNotAllowed(ConclaveError):
    status_code = 405
    code = "method_not_allowed"


class InternalError(ConclaveError):
    status_code = 500
    code = "internal_error"


async def _echo(request: Request) -> dict[str, Any]:
    form = getattr(request.state, "xrcloud_form", None)
    if isinstance(form, dict):
        return form
    try:
        raw = await request.body()
        parsed = json.loads(raw) if raw else {}
    except (RuntimeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


async def render_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path"))
        status, message = 400, (f"{where}: {first.get('msg', '')}" if where else str(first.get("msg", "")))
    else:
        assert isinstance(exc, ConclaveError)
        status, message = exc.status_code, exc.message
        if exc.code == "scene_not_found":
            status = 404
        elif status == 422:
            status = 400
    body = {
        "statusCode": status,
        "method": request.method,
        "url": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "body": await _echo(request),
        "message": message,
    }
    return JSONResponse(body, status_code=status)


def _route_class() -> type[TransactionalRoute]:
    base = surface_route(render_error)

    class XrcloudRoute(base):  # type: ignore[misc,valid-type]
        """Also renders a commit-time unique-key race (409) and unexpected failures (500)."""

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def xrcloud_handler(request: Request) -> Response:
                try:
                    response: Response = await handler(request)
                except IntegrityError:
                    return await render_error(request, Conflict("the change conflicts with existing data"))
                except Exception:
                    log.exception("unexpected error on %s %s", request.method, request.url.path)
                    return await render_error(request, InternalError("Internal server error"))
                return response

            return xrcloud_handler

    return XrcloudRoute


XrcloudRoute = _route_class()

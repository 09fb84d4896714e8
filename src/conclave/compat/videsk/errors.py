"""Feathers-style errors: ``{"name", "message", "code", "className"}`` for every Videsk answer.

The one error body the reference prints (DELETE's 403) is FeathersJS's error JSON, so every
error of this surface uses Feathers's names and class names for its status. Input that does not
validate is a Feathers ``BadRequest`` (the reference lists "Bad request - Invalid input data").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from conclave.kit.errors import ConclaveError
from conclave.kit.routing import TransactionalRoute, surface_route

log = logging.getLogger(__name__)

# status → (name, className), as @feathersjs/errors defines them.
FEATHERS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "bad-request"),
    401: ("NotAuthenticated", "not-authenticated"),
    402: ("PaymentError", "payment-error"),
    403: ("Forbidden", "forbidden"),
    404: ("NotFound", "not-found"),
    405: ("MethodNotAllowed", "method-not-allowed"),
    406: ("NotAcceptable", "not-acceptable"),
    408: ("Timeout", "timeout"),
    409: ("Conflict", "conflict"),
    411: ("LengthRequired", "length-required"),
    422: ("Unprocessable", "unprocessable"),
    429: ("TooManyRequests", "too-many-requests"),
    500: ("GeneralError", "general-error"),
    501: ("NotImplemented", "not-implemented"),
    502: ("BadGateway", "bad-gateway"),
    503: ("Unavailable", "unavailable"),
}

# Conclave's field names in service messages, as a Videsk client knows them.
_MESSAGES = {
    "external_id_taken": "externalId already exists",
    "room_not_found": "Room not found",
}


class MethodNotAllowed(ConclaveError):
    status_code = 405
    code = "method_not_allowed"


class GeneralError(ConclaveError):
    status_code = 500
    code = "general_error"


def feathers_body(status: int, message: str, data: Any = None) -> dict[str, Any]:
    name, class_name = FEATHERS_ERRORS.get(status, FEATHERS_ERRORS[500])
    body: dict[str, Any] = {"name": name, "message": message, "code": status, "className": class_name}
    if data is not None:
        body["data"] = data
    return body


def _validation_message(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    errors = [
        {"path": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": e.get("msg", "")}
        for e in exc.errors()
    ]
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return "Invalid JSON in request body", errors
    first = errors[0] if errors else {"path": "", "message": "Invalid input data"}
    return (f"{first['path']}: {first['message']}" if first["path"] else first["message"]), errors


async def render_error(request: Request, exc: Exception) -> Response:
    """Render any error of this surface in Feathers's shape (422 reads as BadRequest, as documented)."""
    if isinstance(exc, RequestValidationError):
        message, errors = _validation_message(exc)
        return JSONResponse(feathers_body(400, message, {"errors": errors}), status_code=400)
    assert isinstance(exc, ConclaveError)
    status = 400 if exc.status_code == 422 else exc.status_code
    message = _MESSAGES.get(exc.code, exc.message)
    data = exc.details if isinstance(exc.details, dict) else None
    return JSONResponse(feathers_body(status, message, data), status_code=status)


def _route_class() -> type[TransactionalRoute]:
    base = surface_route(render_error)

    class VideskRoute(base):  # type: ignore[misc,valid-type]
        """Also renders a commit-time unique-key race (409) and unexpected failures (500) as Feathers."""

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def feathers_handler(request: Request) -> Response:
                try:
                    response: Response = await handler(request)
                except IntegrityError:
                    return await render_error(request, _conflict())
                except Exception:
                    log.exception("unexpected error on %s %s", request.method, request.url.path)
                    return await render_error(request, GeneralError("Internal server error"))
                return response

            return feathers_handler

    return VideskRoute


def _conflict() -> ConclaveError:
    from conclave.kit.errors import Conflict

    return Conflict("the change conflicts with existing data; retry or pick another value")


VideskRoute = _route_class()

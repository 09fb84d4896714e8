"""The native renderer: ``{"error": {"code", "message", "details"}}`` with the error's status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from conclave.kit.errors import ConclaveError

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _clean(errors: list[Any]) -> list[dict[str, Any]]:
    return [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type", "")}
        for error in errors
    ]


async def conclave_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConclaveError)
    return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status_code)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _clean(list(exc.errors()))
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type and any(error["loc"] == ["body"] for error in errors):
        return JSONResponse(
            error_body(
                "unsupported_media_type",
                "send the request body as JSON with 'Content-Type: application/json'",
            ),
            status_code=415,
        )
    if any(error["type"] == "json_invalid" for error in errors):
        return JSONResponse(
            error_body("invalid_json", "the request body is not valid JSON", errors), status_code=400
        )
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"] if part != "body") or "request"
    message = f"{where}: {first['msg']}"
    return JSONResponse(error_body("validation_error", message, errors), status_code=422)


def as_conclave_error(exc: StarletteHTTPException) -> ConclaveError:
    """A refusal by the framework itself (an unreadable body, a body too large) as a ConclaveError.

    Compatible surfaces render ConclaveErrors in their own bodies; without this, such a refusal
    would reach their catch-all and come out as a 500.
    """
    error = ConclaveError(str(exc.detail), code=_HTTP_CODES.get(exc.status_code, "http_error"))
    error.status_code = exc.status_code
    return error


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None)
    )


async def integrity_error(request: Request, exc: Exception) -> JSONResponse:
    """Last line behind the services' own checks: a race on a unique key is a conflict, not a 500."""
    return JSONResponse(
        error_body("conflict", "the change conflicts with existing data; retry or pick another value"),
        status_code=409,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(ConclaveError, conclave_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(IntegrityError, integrity_error)

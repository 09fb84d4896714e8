"""Qriib's error bodies: the renderer handed to ``kit.routing.surface_route``.

Services raise the same ``ConclaveError``s on every surface; this module only decides how they
look on the wire. Qriib has no single error shape (the collection shows ``{"error": …}`` for
authentication and lookups, ``{"errors": {field: message}}`` for validation, and
``{"message", "status"}`` pairs for rooms and project status), so the mapping is by error code.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from conclave.kit.errors import BadRequest, ConclaveError, Unauthorized, ValidationFailed

# Captured verbatim from the collection's saved 401 responses.
INVALID_API_KEY = "Invalid or missing api_key"
INVALID_SIGNATURE = "Invalid signature"
# Werkzeug's text for an unparsable body; Qriib wraps it in a 500, Conclave answers 400.
MALFORMED_BODY = "The browser (or proxy) sent a request that this server could not understand."


class InvalidApiKey(Unauthorized):
    code = "qriib_invalid_api_key"

    def __init__(self) -> None:
        super().__init__(INVALID_API_KEY)


class InvalidSignature(Unauthorized):
    code = "qriib_invalid_signature"

    def __init__(self) -> None:
        super().__init__(INVALID_SIGNATURE)


class MalformedBody(BadRequest):
    code = "qriib_malformed_body"

    def __init__(self) -> None:
        super().__init__(MALFORMED_BODY)


class FieldErrors(ValidationFailed):
    """Qriib's ``{"errors": {field: message}}`` (status 400, not Conclave's 422).

    ``extra`` adds top-level keys some endpoints put next to ``errors`` (``message``/``status``).
    """

    status_code = 400
    code = "qriib_field_errors"

    def __init__(self, errors: dict[str, str], **extra: Any) -> None:
        super().__init__("invalid request", details=errors)
        self.errors = errors
        self.extra = extra


class InvalidStatus(ValidationFailed):
    status_code = 400
    code = "qriib_invalid_status"

    def __init__(self) -> None:
        super().__init__("Invalid status")


_NOT_FOUND = {
    "room_not_found": "Room not found",
    "project_not_found": "Project not found",
    "organization_not_found": "Organization not found",
    # Captured on get_recording_link; used wherever a recording id is unknown (or another tenant's).
    "recording_not_found": "Recording not found",
}
_LIMITS = frozenset(
    {"max_active_rooms_reached", "max_daily_rooms_reached", "max_participants_per_room_exceeded"}
)
# Native service validation codes, reported under the Qriib field the caller sent.
_FIELD_OF_CODE = {"unknown_role": "role", "roles_required": "role", "default_role_not_in_roles": "role"}


def body_for(exc: ConclaveError) -> tuple[int, dict[str, Any]]:
    """The status and Qriib body for one service or surface error."""
    code = exc.code
    if isinstance(exc, FieldErrors):
        return 400, {"errors": exc.errors, **exc.extra}
    if isinstance(exc, InvalidStatus):
        return 400, {"message": "Invalid status", "status": "error"}
    if isinstance(exc, MalformedBody):
        return 400, {"error": "Bad Request", "message": MALFORMED_BODY}
    if code in (InvalidApiKey.code, InvalidSignature.code):
        return 401, {"error": exc.message}
    if code == "external_id_taken":
        return 400, {"message": "Client room ID already exists", "status": False}
    if code == "project_name_taken":
        return 409, {"message": "Project with the same name already exists", "status": "error"}
    if code == "project_inactive":
        return 403, {"error": "Project is not active"}
    if code in _NOT_FOUND:
        return 404, {"error": _NOT_FOUND[code]}
    if code == "recording_not_ready":
        return 409, {"error": exc.message}
    if code in _LIMITS:
        return 403, {"message": exc.message, "status": False}
    if isinstance(exc, ValidationFailed):
        return 400, {"errors": {_FIELD_OF_CODE.get(code, "body"): exc.message}}
    if exc.status_code == 409:
        return 409, {"message": exc.message, "status": False}
    return exc.status_code, {"error": exc.message}


async def render(request: Request, exc: Exception) -> Response:
    """``surface_route`` renderer; the transaction is already rolled back when this runs."""
    if isinstance(exc, ConclaveError):
        status, body = body_for(exc)
        return JSONResponse(body, status_code=status)
    assert isinstance(exc, RequestValidationError)
    errors: dict[str, str] = {}
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path"))
        errors[where or "request"] = str(error.get("msg", "invalid"))
    return JSONResponse({"errors": errors}, status_code=400)

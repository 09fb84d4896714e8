"""One error base class carrying its HTTP status; each API surface renders it in its own body.

Services raise these; routes never build error bodies by hand. The native renderer produces
``{"error": {"code", "message", "details"}}``; compatible surfaces wrap the same exceptions.
"""

from __future__ import annotations

from typing import Any


class ConclaveError(Exception):
    status_code: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class BadRequest(ConclaveError):
    status_code = 400
    code = "bad_request"


class Unauthorized(ConclaveError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ConclaveError):
    status_code = 403
    code = "forbidden"


class NotFound(ConclaveError):
    status_code = 404
    code = "not_found"


class Conflict(ConclaveError):
    status_code = 409
    code = "conflict"


class ValidationFailed(ConclaveError):
    """A payload that parses but breaks a rule (422), e.g. a default role missing from roles."""

    status_code = 422
    code = "validation_error"


class QuotaExceeded(ConclaveError):
    status_code = 429
    code = "quota_exceeded"

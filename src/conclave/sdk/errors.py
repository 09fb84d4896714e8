"""Every exception the SDK raises, in one hierarchy so callers can catch broadly or precisely.

Why a separate module: the REST client and the realtime participant fail for different
reasons (HTTP statuses vs. WebSocket close codes and protocol ``error`` frames), but a
caller running both — a bot, a test — wants one root (:class:`ConclaveSDKError`) to catch.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AdmissionRefused",
    "AuthenticationError",
    "BadRequestError",
    "ConclaveAPIError",
    "ConclaveConnectionError",
    "ConclaveSDKError",
    "ConflictError",
    "ConnectionLost",
    "IceConfigurationError",
    "Kicked",
    "MediaConnectionFailed",
    "NotFoundError",
    "PermissionDeniedError",
    "PublishRefused",
    "RateLimitError",
    "RealtimeError",
    "RealtimeTimeout",
    "Replaced",
    "RequestRefused",
    "ServerError",
    "SessionEnded",
    "UnsupportedMediaTypeError",
    "ValidationFailedError",
]


class ConclaveSDKError(Exception):
    """Root of every SDK error."""


# --- REST ---------------------------------------------------------------------------------


class ConclaveAPIError(ConclaveSDKError):
    """The native API answered with an error status; carries its ``{"error": {...}}`` body.

    ``code``/``message``/``details`` are the server's own fields, so callers branch on the
    stable ``code`` (e.g. ``room_not_found``) rather than on message text.
    """

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: Any = None,
        *,
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(f"{status_code} {code}: {message}")
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.method = method
        self.url = url


class BadRequestError(ConclaveAPIError):
    """400: malformed JSON or request."""


class AuthenticationError(ConclaveAPIError):
    """401: missing, wrong or revoked credentials."""


class PermissionDeniedError(ConclaveAPIError):
    """403: inactive project or a project limit reached."""


class NotFoundError(ConclaveAPIError):
    """404: unknown id — also another project's id, which the server never reveals."""


class ConflictError(ConclaveAPIError):
    """409: e.g. a friendly_url already taken, or a role still in use."""


class UnsupportedMediaTypeError(ConclaveAPIError):
    """415: the body was not sent as JSON."""


class ValidationFailedError(ConclaveAPIError):
    """422: the payload parsed but broke a rule; ``details`` lists the offending fields."""


class RateLimitError(ConclaveAPIError):
    """429: the project's daily API quota is spent (not retried: it resets at 00:00 UTC)."""


class ServerError(ConclaveAPIError):
    """5xx still failing after the client's bounded retries."""


class ConclaveConnectionError(ConclaveSDKError):
    """The server could not be reached (connect/read failures) after the bounded retries."""


# --- realtime -----------------------------------------------------------------------------


class RealtimeError(ConclaveSDKError):
    """A realtime (``/rtc``) failure; ``code``/``message`` come from the server when it sent them."""

    def __init__(self, message: str, *, code: str | None = None, close_code: int | None = None) -> None:
        super().__init__(message if code is None else f"{code}: {message}")
        self.code = code
        self.message = message
        self.close_code = close_code


class RealtimeTimeout(RealtimeError, TimeoutError):
    """The server did not answer within the participant's timeout."""


class AdmissionRefused(RealtimeError):
    """The server refused to admit this participant (bad token, private room, full, denied, …).

    ``close_code`` is the protocol's 44xx code (4401 token, 4403 refused/denied, 4404 room
    not found, 4409 full/not open); ``code``/``message`` are from the server's ``error`` frame.
    """


class RequestRefused(RealtimeError):
    """The server answered a request with an ``error`` frame (permission, state, validation)."""


class PublishRefused(RequestRefused):
    """``publish`` was refused, typically because the role lacks the ``broadcast`` permission."""


class IceConfigurationError(RealtimeError):
    """No ICE candidate could be gathered on the allowed local addresses."""


class MediaConnectionFailed(RealtimeError):
    """A peer connection reached ``failed`` (ICE/DTLS did not complete)."""


class ConnectionLost(RealtimeError):
    """The socket closed (and could not be resumed) while the participant was in the room."""


class Kicked(ConnectionLost):
    """A moderator or the REST API removed this participant (close 4410)."""


class SessionEnded(ConnectionLost):
    """The session ended (close 4411); ``code`` holds the reason, e.g. ``ended_by_moderator``."""


class Replaced(ConnectionLost):
    """The same participant resumed on another socket (close 4412)."""

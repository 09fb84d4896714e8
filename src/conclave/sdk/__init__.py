"""Conclave's Python SDK: the native REST API (``ConclaveClient``) and real WebRTC participants.

``ConclaveClient`` needs only httpx; ``Participant``, the tracks and the bot need aiortc, av
and numpy (the ``dev`` extra), so they are imported on first use and a REST-only caller
never pays for (or needs) a WebRTC stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conclave.sdk.errors import (
    AdmissionRefused,
    AuthenticationError,
    BadRequestError,
    ConclaveAPIError,
    ConclaveConnectionError,
    ConclaveSDKError,
    ConflictError,
    ConnectionLost,
    IceConfigurationError,
    Kicked,
    MediaConnectionFailed,
    NotFoundError,
    PermissionDeniedError,
    PublishRefused,
    RateLimitError,
    RealtimeError,
    RealtimeTimeout,
    Replaced,
    RequestRefused,
    ServerError,
    SessionEnded,
    UnsupportedMediaTypeError,
    ValidationFailedError,
)
from conclave.sdk.rest import DEFAULT_SERVER, ConclaveClient, IssuedToken, Page

if TYPE_CHECKING:
    from conclave.sdk.bot import BotFailure, run_bot
    from conclave.sdk.participant import FeedStats, FrameCounts, Participant
    from conclave.sdk.tracks import (
        FileSource,
        MediaSource,
        PatternVideoTrack,
        SyntheticSource,
        ToneAudioTrack,
    )

_LAZY = {
    "Participant": "conclave.sdk.participant",
    "FeedStats": "conclave.sdk.participant",
    "FrameCounts": "conclave.sdk.participant",
    "FileSource": "conclave.sdk.tracks",
    "MediaSource": "conclave.sdk.tracks",
    "PatternVideoTrack": "conclave.sdk.tracks",
    "SyntheticSource": "conclave.sdk.tracks",
    "ToneAudioTrack": "conclave.sdk.tracks",
    "BotFailure": "conclave.sdk.bot",
    "run_bot": "conclave.sdk.bot",
}

__all__ = [
    "DEFAULT_SERVER",
    "AdmissionRefused",
    "AuthenticationError",
    "BadRequestError",
    "BotFailure",
    "ConclaveAPIError",
    "ConclaveClient",
    "ConclaveConnectionError",
    "ConclaveSDKError",
    "ConflictError",
    "ConnectionLost",
    "FeedStats",
    "FileSource",
    "FrameCounts",
    "IceConfigurationError",
    "IssuedToken",
    "Kicked",
    "MediaConnectionFailed",
    "MediaSource",
    "NotFoundError",
    "Page",
    "Participant",
    "PatternVideoTrack",
    "PermissionDeniedError",
    "PublishRefused",
    "RateLimitError",
    "RealtimeError",
    "RealtimeTimeout",
    "Replaced",
    "RequestRefused",
    "ServerError",
    "SessionEnded",
    "SyntheticSource",
    "ToneAudioTrack",
    "UnsupportedMediaTypeError",
    "ValidationFailedError",
    "run_bot",
]


def __getattr__(name: str) -> Any:
    """Import the WebRTC half on first use (see the module docstring)."""
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'conclave.sdk' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value

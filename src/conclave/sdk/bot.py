"""A headless participant for load, smoke and end-to-end checks (``conclave bot``).

Why: proving a deployment works means real media through it — a bot joins like any client,
optionally publishes a synthetic (or file) audio+video feed, decodes what the others send,
stays a while, leaves, and reports what it saw as one JSON object. Refusals are distinct
failures (:class:`BotFailure` with an exit code) so scripts can tell "not admitted" from
"not allowed to publish" from "could not connect".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from conclave.sdk.errors import (
    AdmissionRefused,
    ConclaveConnectionError,
    PublishRefused,
    RealtimeError,
    RealtimeTimeout,
)
from conclave.sdk.participant import Participant
from conclave.sdk.rest import DEFAULT_SERVER
from conclave.sdk.tracks import FileSource, MediaSource, SyntheticSource

__all__ = ["EXIT_ADMISSION_REFUSED", "EXIT_ERROR", "EXIT_PUBLISH_REFUSED", "BotFailure", "run_bot"]

EXIT_ERROR = 1
EXIT_ADMISSION_REFUSED = 3
EXIT_PUBLISH_REFUSED = 4


@dataclass
class BotFailure(Exception):
    """Why the bot could not do its job; ``exit_code`` is what ``conclave bot`` exits with."""

    message: str
    exit_code: int = EXIT_ERROR
    code: str | None = None
    close_code: int | None = None

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "close_code": self.close_code}}


async def run_bot(
    *,
    server: str = DEFAULT_SERVER,
    token: str | None = None,
    room: str | None = None,
    name: str | None = None,
    publish: bool = False,
    audio: bool = True,
    video: bool = True,
    seconds: float = 10.0,
    ice_addresses: Collection[str] | Literal["auto"] | None = None,
    media_file: Path | None = None,
    request_timeout: float = 20.0,
) -> dict[str, Any]:
    """Join, (publish,) subscribe, stay ``seconds``, leave; returns the report.

    ``ice_addresses="auto"`` (or ``["auto"]``) uses the addresses the server reports.
    The stay ends early when the bot is removed (kicked, session ended); the report then
    says why in ``ended``. Raises :class:`BotFailure` for refusals and connection failures.
    """
    if ice_addresses is not None and ice_addresses != "auto" and list(ice_addresses) == ["auto"]:
        ice_addresses = "auto"  # `--ice-address auto`: ask the server (GET /rtc/config)
    source: MediaSource = FileSource(media_file) if media_file is not None else SyntheticSource()
    participant = Participant(
        server,
        token=token,
        room=room,
        display_name=name,
        ice_addresses=ice_addresses,
        timeout=request_timeout,
    )
    try:
        try:
            joined = await participant.join(subscribe=True)
        except AdmissionRefused as exc:
            raise BotFailure(
                f"admission refused: {exc.message} (code {exc.code}, close code {exc.close_code})",
                EXIT_ADMISSION_REFUSED,
                exc.code,
                exc.close_code,
            ) from exc
        feed_id: Any = None
        if publish:
            try:
                feed_id = await participant.publish(audio=audio, video=video, source=source)
            except PublishRefused as exc:
                raise BotFailure(
                    f"publishing refused: {exc.message} (code {exc.code})", EXIT_PUBLISH_REFUSED, exc.code
                ) from exc
        with contextlib.suppress(RealtimeTimeout):  # the normal end of the stay: still in the room
            await participant.wait_closed(within=seconds)
        report = await participant.get_stats()
        me = participant.participant or {}
        seen = {str(p) for p in participant.participants} | {
            str((event.get("participant") or {}).get("id"))
            for event in participant.events
            if event.get("type") == "participant_joined"
        }
        ended = participant.close_error
        report.update(
            {
                "published": feed_id is not None,
                "feed_id": feed_id,
                "display_name": me.get("name"),
                "role": me.get("role"),
                "resumed": bool(joined.get("resumed")),
                "resumes": participant.resume_count,
                "seconds": seconds,
                "participants_seen": len(seen),
                "ended": None
                if ended is None
                else {"reason": ended.code or ended.message, "close_code": ended.close_code},
                "media_errors": list(participant.media_errors),
            }
        )
        return report
    except ConclaveConnectionError as exc:
        raise BotFailure(f"cannot connect: {exc}") from exc
    except RealtimeError as exc:
        raise BotFailure(str(exc), EXIT_ERROR, exc.code, exc.close_code) from exc
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(participant.leave(), request_timeout)
        source.close()

"""What the meeting page needs before the first paint: admission, room settings and branding.

Admission is decided by ``SessionService.authorize`` (nobody is counted); the page then speaks
the realtime protocol itself. Room full, waiting, denied, kicked and session ended happen over
the socket and are shown inside the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conclave.access.verifier import unverified_room_id
from conclave.kit.errors import ConclaveError
from conclave.rooms.models import Room
from conclave.rooms.service import RoomService
from conclave.sessions.service import JoinRefused, JoinTicket, SessionService
from conclave.tenancy.service import TenancyService

STATIC_DIR = Path(__file__).parent / "static"
I18N_DIR = STATIC_DIR / "i18n"
DEFAULT_LANGUAGE = "en"
# A placeholder name, used only to ask ``authorize`` about everything but the name.
_PROBE_NAME = "guest"


@lru_cache(maxsize=32)
def _load_strings(language: str) -> dict[str, str]:
    path = I18N_DIR / f"{language}.json"
    if not path.is_file():
        return {}
    strings: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return strings


def available_languages() -> list[str]:
    """Languages with a translation file (others fall back to English)."""
    return sorted(path.stem for path in I18N_DIR.glob("*.json"))


def strings_for(language: str) -> dict[str, str]:
    """English strings overlaid with ``language``'s translations (missing keys stay English)."""
    return {**_load_strings(DEFAULT_LANGUAGE), **_load_strings(language)}


def pick_language(room_language: str | None, accept_language: str | None) -> str:
    """The room's ``default_language``, else the browser's best supported match, else English."""
    available = set(available_languages())
    if room_language:
        return room_language if room_language in available else DEFAULT_LANGUAGE
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip()
        if not tag:
            continue
        if tag in available:
            return tag
        prefix = tag.split("-")[0].lower()
        for candidate in sorted(available):
            if candidate.lower() == prefix or candidate.lower().startswith(prefix + "-"):
                return candidate
    return DEFAULT_LANGUAGE


def _safe_url(url: str | None) -> str | None:
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


@dataclass(frozen=True)
class PageRefusal:
    """Why the page cannot open the meeting: a code for the translated text, and a status."""

    code: str
    message: str
    status_code: int
    language: str
    opens_at: datetime | None = None


@dataclass(frozen=True)
class MeetingContext:
    """Everything the page's first render embeds (as JSON) for the browser client."""

    room: Room
    ticket: JoinTicket
    name_required: bool
    return_url: str | None
    language: str

    def client_config(self, *, token: str | None) -> dict[str, Any]:
        settings = dict(self.room.settings)
        return {
            "room": {
                "id": self.room.id,
                "friendly_url": self.room.friendly_url,
                "name": self.room.name or self.room.friendly_url,
                "kind": self.room.kind,
                "is_locked": self.room.is_locked,
                "settings": settings,
            },
            "role": self.ticket.role,
            "permissions": self.ticket.permissions,
            "name": None if self.name_required else self.ticket.name,
            "name_required": self.name_required,
            "needs_admission": self.ticket.needs_admission,
            "has_token": token is not None,
            "return_url": self.return_url,
            "language": self.language,
            "strings": strings_for(self.language),
            "rtc_path": "/rtc",
            "rtc_config_path": "/rtc/config",
        }


_STATUS_BY_CLOSE_CODE = {4400: 400, 4401: 401, 4403: 403, 4404: 404, 4409: 409, 4503: 503}


class MeetingPages:
    """Prepares the meeting page for a ref (room id or friendly_url) and an optional token."""

    def __init__(self, sessions: SessionService, rooms: RoomService, tenancy: TenancyService) -> None:
        self.sessions = sessions
        self.rooms = rooms
        self.tenancy = tenancy

    async def prepare(
        self,
        db: AsyncSession,
        *,
        ref: str,
        token: str | None,
        accept_language: str | None,
        ip: str | None = None,
    ) -> MeetingContext | PageRefusal:
        """Admission check for the first render (nobody is counted), or why it is refused."""
        room_ref = None if token and unverified_room_id(token) else ref
        name_required = False
        try:
            try:
                ticket = await self.sessions.authorize(
                    db, token=token, room_ref=room_ref, display_name=None, ip=ip
                )
            except JoinRefused as exc:
                if exc.code != "display_name_required":
                    raise
                name_required = True
                ticket = await self.sessions.authorize(
                    db, token=token, room_ref=room_ref, display_name=_PROBE_NAME, ip=ip
                )
        except JoinRefused as exc:
            return await self._refusal(db, exc, ref=ref, token=token, accept_language=accept_language)
        room = await self.rooms.find_for_join(db, room_id=ticket.room_id, ref=None)
        project = await self.tenancy.get_project(db, room.project_id)
        return_url = (
            _safe_url(room.return_url) or _safe_url(project.return_url) or _safe_url(project.logout_url)
        )
        language = pick_language(room.settings.get("default_language"), accept_language)
        return MeetingContext(
            room=room, ticket=ticket, name_required=name_required, return_url=return_url, language=language
        )

    async def _refusal(
        self, db: AsyncSession, exc: JoinRefused, *, ref: str, token: str | None, accept_language: str | None
    ) -> PageRefusal:
        room: Room | None = None
        try:
            room = await self.rooms.find_for_join(
                db, room_id=unverified_room_id(token) if token else None, ref=ref
            )
        except ConclaveError:
            room = None
        language = pick_language(room.settings.get("default_language") if room else None, accept_language)
        opens_at = None
        if exc.code == "room_not_open" and room is not None:
            times = [t for t in (room.scheduled_start_at, room.nbf) if t is not None]
            opens_at = max(times) if times else None
        code = exc.code
        if exc.close_code == 4401:
            code = "token_expired" if code == "token_expired" else "token_invalid"
        return PageRefusal(
            code=code,
            message=exc.message,
            status_code=_STATUS_BY_CLOSE_CODE.get(exc.close_code, 403),
            language=language,
            opens_at=opens_at,
        )

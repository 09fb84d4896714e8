"""Server-rendered HTML of the meeting page: the app shell and the error pages.

The shell only embeds the page's configuration (JSON, ``<`` escaped) and loads the ES modules
under ``/meet/static``; error pages need no JavaScript at all. Nothing comes from the internet.
"""

from __future__ import annotations

import json
from datetime import UTC
from html import escape
from typing import Any

from conclave.web.service import PageRefusal, strings_for

STATIC_PREFIX = "/meet/static"

# Which translated title/text pair an error code shows, and its icon.
_ERRORS: dict[str, tuple[str, str]] = {
    "token_invalid": ("error.token_invalid", "lock"),
    "token_expired": ("error.token_expired", "clock"),
    "token_required": ("error.token_required", "lock"),
    "room_not_found": ("error.room_not_found", "search"),
    "room_ambiguous": ("error.room_ambiguous", "link"),
    "room_required": ("error.room_ambiguous", "link"),
    "room_ended": ("error.room_ended", "door"),
    "room_expired": ("error.room_ended", "door"),
    "room_not_open": ("error.room_not_open", "clock"),
    "room_full": ("error.room_full", "people"),
    "banned": ("error.banned", "lock"),
    "media_unavailable": ("error.media_unavailable", "alert"),
}

_ICONS = {
    "lock": '<rect x="5" y="11" width="14" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/>',
    "clock": '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
    "search": '<circle cx="11" cy="11" r="7"/><path d="m20 20-4-4"/>',
    "link": '<path d="M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1"/>'
    '<path d="M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1"/>',
    "door": '<path d="M14 3H6v18h8"/><path d="M10 12h11"/><path d="m18 9 3 3-3 3"/>',
    "people": '<circle cx="9" cy="8" r="3.5"/><path d="M3 20a6 6 0 0 1 12 0"/>'
    '<circle cx="17" cy="9" r="2.5"/><path d="M16 14.5a5 5 0 0 1 5 5"/>',
    "alert": '<path d="M12 3 2 20h20Z"/><path d="M12 10v4"/><path d="M12 17h.01"/>',
}


def _json_for_script(value: Any) -> str:
    """JSON safe inside a ``<script type="application/json">`` element."""
    return (
        json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def _head(title: str, language: str) -> str:
    return (
        f'<!doctype html><html lang="{escape(language, quote=True)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">'
        '<meta name="color-scheme" content="dark"><meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title>"
        f'<link rel="icon" href="{STATIC_PREFIX}/favicon.svg" type="image/svg+xml">'
        f'<link rel="stylesheet" href="{STATIC_PREFIX}/meet.css">'
    )


def shell(title: str, config: dict[str, Any]) -> str:
    """The meeting app: an empty ``#app`` the modules fill in, with the configuration beside it."""
    language = str(config.get("language", "en"))
    strings = config.get("strings", {})
    loading = escape(str(strings.get("app.loading", "Loading…")))
    noscript = escape(str(strings.get("app.noscript", "This meeting page needs JavaScript.")))
    return (
        _head(f"{title} · Conclave", language)
        + f'<script type="application/json" id="conclave-config">{_json_for_script(config)}</script>'
        + f'<script type="module" src="{STATIC_PREFIX}/js/main.js"></script></head>'
        + '<body><div id="app" class="app"><div class="boot" role="status">'
        + f'<div class="spinner" aria-hidden="true"></div><p>{loading}</p></div></div>'
        + f'<noscript><div class="center-screen"><div class="card"><p>{noscript}</p></div></div></noscript>'
        + "</body></html>"
    )


def error_page(refusal: PageRefusal) -> str:
    """A calm full-page explanation of why the meeting cannot open, in the room's language."""
    strings = strings_for(refusal.language)
    key, icon = _ERRORS.get(refusal.code, ("error.generic", "alert"))
    title = strings.get(f"{key}.title", strings.get("error.generic.title", "This meeting cannot open"))
    text = strings.get(f"{key}.text", strings.get("error.generic.text", ""))
    extra = ""
    if refusal.opens_at is not None:
        when = refusal.opens_at.replace(tzinfo=refusal.opens_at.tzinfo or UTC).astimezone(UTC)
        label = escape(strings.get("error.room_not_open.when", "Opens at"))
        stamp = when.strftime("%Y-%m-%d %H:%M UTC")
        extra = (
            f'<p class="muted">{label} <time datetime="{escape(when.isoformat(), quote=True)}">'
            f"{escape(stamp)}</time></p>"
        )
    action = ""
    if refusal.code in ("room_not_open", "media_unavailable", "room_full"):
        action = f'<a class="btn primary" href="">{escape(strings.get("action.try_again", "Try again"))}</a>'
    detail = escape(refusal.message)
    return (
        _head(f"{title} · Conclave", refusal.language)
        + '</head><body><main class="center-screen error-page">'
        + '<section class="card" role="alert" aria-labelledby="error-title" '
        + f'data-error="{escape(refusal.code, quote=True)}">'
        + '<svg class="card-icon" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" '
        + f'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">{_ICONS[icon]}</svg>'
        + f'<h1 id="error-title">{escape(title)}</h1><p>{escape(text)}</p>{extra}'
        + f'<details class="muted"><summary>{escape(strings.get("error.details", "Details"))}</summary>'
        + f"<p><code>{escape(refusal.code)}</code> — {detail}</p></details>{action}"
        + "</section></main></body></html>"
    )

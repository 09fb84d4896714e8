"""The room settings of the Digital Samba reference and Conclave's built-in defaults.

A project's defaults (``GET/PATCH /api/v1``) override these; a new room resolves
built-in ← project ← request once, at creation, as the reference describes.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = (
    "ar-SA",
    "ca-ES",
    "en",
    "es-ES",
    "de-DE",
    "it-IT",
    "nb-NO",
    "nl-NL",
    "pt-PT",
    "ro-RO",
    "zh-CN",
    "zh-TW",
)

BOOLEAN_SETTINGS: dict[str, bool] = {
    "join_screen_enabled": True,
    "chat_enabled": True,
    "qa_enabled": False,
    "recordings_enabled": False,
    "screenshare_enabled": True,
    "raise_hand_enabled": True,
    "video_on_join_enabled": True,
    "audio_on_join_enabled": False,
    "auto_pip_enabled": False,
    "room_reactions_enabled": True,
    "invite_participants_advanced_enabled": False,
    "chat_reactions_enabled": True,
    "chat_reactions_extended_enabled": False,
    "virtual_backgrounds_v2_enabled": False,
    "connection_quality_indicator_enabled": False,
    "pin_panels_enabled": True,
    "chat_persistence_enabled": False,
    "watermark_enabled": False,
    "topbar_enabled": True,
}

OTHER_SETTINGS: dict[str, Any] = {
    "watermark_text": None,
    "default_language": "en",
    "toolbar": {"position": "bottom", "visible": True},
    "logo_url": None,
    "primary_color": None,
    "background_color": None,
}

SETTING_NAMES = tuple(BOOLEAN_SETTINGS) + tuple(OTHER_SETTINGS)

# Room columns that a project's defaults may also set.
CORE_DEFAULTS: dict[str, Any] = {
    "privacy": "public",
    "is_locked": False,
    "max_participants": 100,
    "session_length": 1440,
    "default_role": "attendee",
    "roles": ["moderator", "speaker", "attendee", "viewer"],
}

BUILT_IN_DEFAULTS: dict[str, Any] = {**CORE_DEFAULTS, **BOOLEAN_SETTINGS, **OTHER_SETTINGS}


def project_defaults(overrides: dict[str, Any]) -> dict[str, Any]:
    """Built-in defaults with a project's stored overrides applied."""
    return {**BUILT_IN_DEFAULTS, **{k: v for k, v in overrides.items() if k in BUILT_IN_DEFAULTS}}

"""The permission catalogue and the four built-in roles."""

from __future__ import annotations

PERMISSIONS: tuple[str, ...] = (
    "broadcast",  # publish camera and microphone
    "screenshare",
    "chat",
    "raise_hand",
    "emoji_reactions",
    "recording",  # start and stop recordings
    "mute_participants",
    "remove_participants",
    "admit_participants",  # let people in from a locked room's waiting list
    "lock_room",
    "end_session",
    "manage_polls",
    "manage_qa",
)

_PARTICIPANT = {"chat", "raise_hand", "emoji_reactions"}

BUILT_IN_ROLES: dict[str, tuple[str, set[str]]] = {
    "moderator": ("Moderator", set(PERMISSIONS)),
    "speaker": ("Speaker", _PARTICIPANT | {"broadcast", "screenshare", "manage_qa"}),
    "attendee": ("Attendee", _PARTICIPANT | {"broadcast"}),
    "viewer": ("Viewer", set(_PARTICIPANT)),
}


def permission_map(granted: set[str]) -> dict[str, bool]:
    return {name: name in granted for name in PERMISSIONS}

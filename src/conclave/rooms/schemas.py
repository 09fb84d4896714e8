"""Native room shapes: every field, default and validation rule of the Digital Samba reference."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from conclave.kit.schemas import RequestModel, ResponseModel, Timestamp
from conclave.rooms.settings import LANGUAGES

HEX_COLOR = r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"
# "Latin characters, numbers, and basic punctuation only. Min 3, max 50 characters."
WATERMARK = r"^[A-Za-z0-9 .,:;!?'\"()\[\]\-_/&@#%+*=]{3,50}$"
RESERVED_FRIENDLY_URLS = frozenset({"tags"})


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# FastAPI validates parsed JSON in Python mode, where strict datetimes would refuse ISO strings.
UtcDateTime = Annotated[datetime, Field(strict=False), AfterValidator(_utc)]
HttpUrl = Annotated[str, Field(max_length=2048, pattern=r"^https?://\S+$")]
Language = Literal[
    "ar-SA", "ca-ES", "en", "es-ES", "de-DE", "it-IT", "nb-NO", "nl-NL", "pt-PT", "ro-RO", "zh-CN", "zh-TW"
]
RoleName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Tag = Annotated[str, Field(min_length=1, max_length=100)]
assert set(LANGUAGES) == set(Language.__args__)  # type: ignore[attr-defined]


class Toolbar(RequestModel):
    position: Literal["bottom", "top", "left", "right"] = "bottom"
    visible: bool = True


class NullRules(RequestModel):
    """``null`` clears a nullable field; for any other field it is refused rather than ignored."""

    _nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _refuse_null(self) -> NullRules:
        bad = sorted(
            name
            for name in self.model_fields_set
            if getattr(self, name) is None and name not in self._nullable
        )
        if bad:
            raise ValueError(f"{', '.join(bad)} cannot be null")
        return self


class RoomSettingsInput(NullRules):
    privacy: Literal["public", "private"] | None = None
    is_locked: bool | None = None
    max_participants: int | None = Field(default=None, ge=1, le=100000)
    session_length: int | None = Field(default=None, ge=1, le=1440, description="Minutes, 1-1440.")
    default_role: RoleName | None = None
    roles: list[RoleName] | None = Field(default=None, min_length=1, max_length=50)
    join_screen_enabled: bool | None = None
    chat_enabled: bool | None = None
    qa_enabled: bool | None = None
    recordings_enabled: bool | None = None
    screenshare_enabled: bool | None = None
    raise_hand_enabled: bool | None = None
    video_on_join_enabled: bool | None = None
    audio_on_join_enabled: bool | None = None
    auto_pip_enabled: bool | None = None
    room_reactions_enabled: bool | None = None
    invite_participants_advanced_enabled: bool | None = None
    chat_reactions_enabled: bool | None = None
    chat_reactions_extended_enabled: bool | None = None
    virtual_backgrounds_v2_enabled: bool | None = None
    connection_quality_indicator_enabled: bool | None = None
    pin_panels_enabled: bool | None = None
    chat_persistence_enabled: bool | None = None
    watermark_enabled: bool | None = None
    watermark_text: str | None = Field(
        default=None,
        pattern=WATERMARK,
        description="Latin letters, digits and basic punctuation; 3-50 characters.",
    )
    default_language: Language | None = None
    toolbar: Toolbar | None = None
    topbar_enabled: bool | None = None
    logo_url: HttpUrl | None = None
    primary_color: str | None = Field(default=None, pattern=HEX_COLOR)
    background_color: str | None = Field(default=None, pattern=HEX_COLOR)

    _nullable: ClassVar[frozenset[str]] = frozenset(
        {"watermark_text", "logo_url", "primary_color", "background_color"}
    )

    @model_validator(mode="after")
    def _unique_roles(self) -> RoomSettingsInput:
        if self.roles is not None and len(set(self.roles)) != len(self.roles):
            raise ValueError("roles must not repeat")
        return self


class RoomDefaultsUpdate(RoomSettingsInput):
    domain: str | None = Field(default=None, max_length=253, pattern=r"^[A-Za-z0-9.-]+$")

    _nullable: ClassVar[frozenset[str]] = RoomSettingsInput._nullable | {"domain"}


class RoomFields(RoomSettingsInput):
    friendly_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="URL-safe room path, at most 32 characters, unique in the project.",
    )
    external_id: str | None = Field(default=None, min_length=1, max_length=255)
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    kind: Literal["video", "audio"] | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    metadata: dict[str, Any] | None = None
    scheduled_start_at: UtcDateTime | None = None
    nbf: UtcDateTime | None = Field(default=None, description="Joins are refused before this time.")
    exp: UtcDateTime | None = Field(default=None, description="Joins are refused after this time.")
    empty_timeout: int | None = Field(
        default=None, ge=1, le=86400, description="Seconds an empty room stays open."
    )
    scene_id: str | None = Field(default=None, max_length=64)
    return_url: HttpUrl | None = None

    _nullable: ClassVar[frozenset[str]] = RoomSettingsInput._nullable | {
        "external_id",
        "name",
        "description",
        "scheduled_start_at",
        "nbf",
        "exp",
        "empty_timeout",
        "scene_id",
        "return_url",
    }

    @model_validator(mode="after")
    def _check_fields(self) -> RoomFields:
        if self.friendly_url is not None and self.friendly_url.lower() in RESERVED_FRIENDLY_URLS:
            raise ValueError(f"friendly_url {self.friendly_url!r} is reserved")
        if self.nbf and self.exp and self.exp <= self.nbf:
            raise ValueError("exp must be later than nbf")
        return self


class RoomCreate(RoomFields):
    pass


class RoomUpdate(RoomFields):
    pass


class DeleteByTags(RequestModel):
    tags: list[Tag] = Field(min_length=1, max_length=50)
    delete_resources: bool = False
    delete_history: bool = False
    delete_library: bool = False


class DeletedRooms(ResponseModel):
    deleted: list[str]
    skipped: list[str] = Field(description="Rooms with a live session, which are never deleted by tag.")


class ToolbarOut(ResponseModel):
    position: str
    visible: bool


class RoomSettingsOut(ResponseModel):
    privacy: str
    is_locked: bool
    max_participants: int
    session_length: int
    default_role: str
    roles: list[str]
    join_screen_enabled: bool
    chat_enabled: bool
    qa_enabled: bool
    recordings_enabled: bool
    screenshare_enabled: bool
    raise_hand_enabled: bool
    video_on_join_enabled: bool
    audio_on_join_enabled: bool
    auto_pip_enabled: bool
    room_reactions_enabled: bool
    invite_participants_advanced_enabled: bool
    chat_reactions_enabled: bool
    chat_reactions_extended_enabled: bool
    virtual_backgrounds_v2_enabled: bool
    connection_quality_indicator_enabled: bool
    pin_panels_enabled: bool
    chat_persistence_enabled: bool
    watermark_enabled: bool
    watermark_text: str | None
    default_language: str
    toolbar: ToolbarOut
    topbar_enabled: bool
    logo_url: str | None
    primary_color: str | None
    background_color: str | None


class RoomDefaultsOut(RoomSettingsOut):
    domain: str | None


class RoomOut(RoomSettingsOut):
    id: str
    friendly_url: str
    external_id: str | None
    name: str | None
    description: str | None
    kind: str
    room_url: str
    status: Literal["scheduled", "idle", "live", "ended"]
    empty_timeout: int | None
    tags: list[str]
    metadata: dict[str, Any]
    scheduled_start_at: Timestamp | None
    nbf: Timestamp | None
    exp: Timestamp | None
    scene_id: str | None
    return_url: str | None
    created_at: Timestamp
    updated_at: Timestamp

"""Qriib devkit v4 request and response shapes, and their translation to native shapes.

Requests are validated the way Qriib reports it: ``{"errors": {field: message}}`` with its own
messages ("The field 'x' is required.", "Must be a bool", "Must be a string", "Value cannot be
negative", "cant exceed 2000"). Nested fields are named by dotted paths without array indexes,
except under ``default_lock_settings`` and ``limits`` where the collection shows the bare leaf
name (``{"lock_webcam": "Must be a bool"}``, ``{"max_active_rooms": "Value cannot be negative"}``).
Fields Qriib does not know are ignored, as its saved examples send extra ones.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from conclave.compat.qriib.errors import FieldErrors, MalformedBody
from conclave.kit.time import isoformat
from conclave.rooms.models import Room
from conclave.tenancy.models import LIMIT_NAMES, Organization, Project
from conclave.tenancy.service import SigningKey

NAMESPACE = "qriib"
"""Key under ``Room.meta`` and ``Project.extra_data`` for Qriib fields Conclave has no column for."""

MAX_EMPTY_TIMEOUT = 2000
ROLE_OF_USER = {"host": "moderator", "moderator": "moderator", "presenter": "speaker", "attendee": "attendee"}
ROLE_OF_INVITATION = {"admin": "moderator", "viewer": "viewer"}
PROJECT_STATUSES = ("active", "inactive", "suspended")
# The nine lock flags Qriib always shows; a flag a project never set is not locked (false).
LOCK_FLAGS = (
    "lock_chat",
    "lock_chat_file_share",
    "lock_chat_send_message",
    "lock_microphone",
    "lock_private_chat",
    "lock_screen_sharing",
    "lock_shared_notepad",
    "lock_webcam",
    "lock_whiteboard",
)

M = TypeVar("M", bound=BaseModel)

# -- validation ----------------------------------------------------------------------------------

_MESSAGES = {
    "string_type": "Must be a string",
    "bool_type": "Must be a bool",
    "int_type": "Must be an integer",
    "int_parsing": "Must be an integer",
    "int_from_float": "Must be an integer",
    "dict_type": "Must be an object",
    "model_type": "Must be an object",
    "model_attributes_type": "Must be an object",
    "list_type": "Must be a list",
    "string_too_short": "Must not be empty",
    "string_pattern_mismatch": "Invalid format",
    "url_parsing": "Must be a valid URL",
}
_BARE_LEAF_SECTIONS = frozenset({"default_lock_settings", "limits"})


def field_key(loc: tuple[int | str, ...]) -> str:
    parts = [str(part) for part in loc if not isinstance(part, int)]
    if len(parts) > 1 and parts[0] in _BARE_LEAF_SECTIONS:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return f"The field '{error['loc'][-1]!s}' is required."
    if kind == "string_too_long":
        return f"Must be at most {error['ctx']['max_length']} characters"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return str(error["msg"]).replace("Input should be", "Must be")
    message: str = _MESSAGES.get(kind, str(error["msg"]))
    return message


def field_errors(exc: ValidationError, rename: dict[str, str] | None = None) -> dict[str, str]:
    """A pydantic error list as Qriib's ``errors`` object; ``rename`` maps native field names."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = tuple(error["loc"])
        if rename and loc and str(loc[0]) in rename:
            loc = (rename[str(loc[0])], *loc[1:])
        errors.setdefault(field_key(loc), _message(error))
    return errors


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; an unparsable body is a 400 (Qriib answers 500 there)."""
    try:
        value = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise MalformedBody() from None
    if not isinstance(value, dict):
        raise FieldErrors({"body": "Must be a JSON object"})
    return value


def parse(model: type[M], data: dict[str, Any]) -> M:
    limits_message: str | None = getattr(model, "limits_message", None)
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        only_limits = all(error["loc"][:1] == ("limits",) for error in exc.errors())
        extra = {"message": limits_message, "status": "error"} if limits_message and only_limits else {}
        raise FieldErrors(field_errors(exc), **extra) from None
    problems = parsed.problems() if isinstance(parsed, QriibModel) else {}
    if problems:
        raise FieldErrors(problems)
    return parsed


def native(model: type[M], values: dict[str, Any], rename: dict[str, str]) -> M:
    """Build a native request model; its refusals come back under the Qriib field names."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise FieldErrors(field_errors(exc, rename)) from None


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("qriib", message)


def _int_like(value: Any) -> int:
    """Qriib documents these as "string or integer" and its own bodies send ``"20"``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    raise _fail("Must be an integer")


def _positive(value: Any) -> int:
    number = _int_like(value)
    if number < 1:
        raise _fail("Must be greater than 0")
    return number


def _empty_timeout(value: Any) -> int:
    number = _positive(value)
    if number > MAX_EMPTY_TIMEOUT:
        raise _fail(f"cant exceed {MAX_EMPTY_TIMEOUT}")
    return number


def _limit(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail("Must be an integer")
    if value < 0:
        raise _fail("Value cannot be negative")
    return value


def _one_object(value: Any) -> Any:
    """``room_features`` is an array of one object in update/get and an object in create."""
    if isinstance(value, list):
        if len(value) > 1:
            raise _fail("Must contain at most one object")
        return value[0] if value else {}
    return value


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


IntLike = Annotated[int, BeforeValidator(_int_like)]
Participants = Annotated[int, BeforeValidator(_positive)]
EmptyTimeout = Annotated[int, BeforeValidator(_empty_timeout)]
LimitValue = Annotated[int, BeforeValidator(_limit)]
OptionalUrl = Annotated[StrictStr | None, BeforeValidator(_blank_to_none)]


class QriibModel(BaseModel):
    model_config = ConfigDict(extra="ignore")

    def problems(self) -> dict[str, str]:
        """Cross-field rules pydantic cannot name a field for."""
        return {}


class OpenModel(BaseModel):
    """Known keys are type-checked; unknown keys are kept as sent (the object is stored whole)."""

    model_config = ConfigDict(extra="allow")


# -- rooms -----------------------------------------------------------------------------------------


class RoomMetadata(OpenModel):
    room_title: Annotated[StrictStr, Field(max_length=200)] | None = None
    welcome_message: StrictStr | None = None


class QuickRoomCreate(QriibModel):
    """``create_quick_audio_room`` / ``create_quick_video_room``: every field is required."""

    project_id: StrictStr
    name: Annotated[StrictStr, Field(max_length=255)]
    client_room_id: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    moderator_id: Annotated[StrictStr, Field(max_length=255)]
    max_participants: Participants
    empty_timeout: EmptyTimeout
    metadata: RoomMetadata


def _start_time(value: Any, info: ValidationInfo) -> datetime:
    """``start_at`` (live bodies, "UTC", e.g. ``2025-12-31T06:16``) or ``scheduled_time`` (examples)."""
    if value is None:
        value = info.data.get("scheduled_time")
    if value is None:
        raise _fail("The field 'start_at' is required.")
    if not isinstance(value, str):
        raise _fail("Must be a string")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _fail("Must be a UTC date and time, e.g. 2025-12-31T06:16") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class ScheduledRoomCreate(QriibModel):
    """``create_schedule_audio_room`` / ``create_schedule_video_room``.

    ``name`` is optional: the description lists it for video only and the live bodies omit it.
    """

    project_id: StrictStr
    name: Annotated[StrictStr, Field(max_length=255)] | None = None
    client_room_id: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    moderator_id: Annotated[StrictStr, Field(max_length=255)]
    max_participants: Participants
    empty_timeout: EmptyTimeout
    metadata: RoomMetadata
    scheduled_time: StrictStr | None = None
    start_at: datetime | None = Field(default=None, validate_default=True)

    @field_validator("start_at", mode="before")
    @classmethod
    def _start(cls, value: Any, info: ValidationInfo) -> datetime:
        return _start_time(value, info)


class StartScheduledRoom(QriibModel):
    """``room_id`` is described as the client-side id; the saved example sends ``client_room_id``."""

    client_room_id: StrictStr | None = None
    room_id: StrictStr | None = None

    def problems(self) -> dict[str, str]:
        if self.room_id is None and self.client_room_id is None:
            return {"room_id": "The field 'room_id' is required."}
        return {}


class RoomRef(QriibModel):
    room_id: StrictStr


class UserMetadata(QriibModel):
    role: StrictStr | None = None

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str | None) -> str | None:
        if value is not None and value not in ROLE_OF_USER:
            raise _fail("Must be one of host, moderator, presenter, attendee")
        return value


class UserInfo(QriibModel):
    name: Annotated[StrictStr, Field(max_length=255)] | None = None
    user_id: Annotated[StrictStr, Field(max_length=255)] | None = None
    is_admin: StrictBool = False
    is_hidden: StrictBool = False
    user_metadata: UserMetadata | None = None

    @property
    def conclave_role(self) -> str:
        """``user_metadata.role`` decides; without it ``is_admin`` means host, otherwise attendee."""
        role = self.user_metadata.role if self.user_metadata else None
        if role is None:
            role = "host" if self.is_admin else "attendee"
        return ROLE_OF_USER[role]


class JoinRoom(QriibModel):
    room_id: StrictStr
    user_info: UserInfo


class InvitationLinkCreate(QriibModel):
    room_id: StrictStr
    role: StrictStr

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str) -> str:
        if value not in ROLE_OF_INVITATION:
            raise _fail("Must be admin or viewer")
        return value


class PastRoomsQuery(QriibModel):
    project_id: StrictStr
    offset: IntLike = Field(default=0, alias="from", ge=0)
    limit: IntLike = Field(default=10, ge=1, le=100)
    order_by: StrictStr = "DESC"

    def problems(self) -> dict[str, str]:
        if self.order_by.upper() not in ("ASC", "DESC"):
            return {"order_by": "Must be ASC or DESC"}
        return {}

    @property
    def order(self) -> Literal["asc", "desc"]:
        return "asc" if self.order_by.upper() == "ASC" else "desc"


# -- projects --------------------------------------------------------------------------------------


class GeneralRoomSettings(OpenModel):
    allow_screen_share: StrictBool | None = None
    allow_webcams: StrictBool | None = None
    allowed_number_rooms: StrictInt | None = None
    allowed_rooms: StrictBool | None = None
    auto_gen_user_id: StrictBool | None = None
    mute_on_start: StrictBool | None = None
    room_duration: StrictInt | None = Field(default=None, description="Minutes.")
    waiting_room_features: StrictBool | None = None


class SpeechFeatures(OpenModel):
    is_allow: StrictBool | None = None
    is_allow_translation: StrictBool | None = None


class AdditionalFeatures(OpenModel):
    allow_rtmp: StrictBool | None = None
    allowed_external_media_player: StrictBool | None = None
    display_external_link_features: StrictBool | None = None
    end_to_end_encryption_features: StrictBool | None = None
    ingress_features: StrictBool | None = None
    speach_to_text_and_translate_features: SpeechFeatures | None = None


class AdminPermission(OpenModel):
    admin_only_webcams: StrictBool | None = None
    allow_raise_hand: StrictBool | None = None
    allow_view_other_users_list: StrictBool | None = None
    allow_view_other_webcams: StrictBool | None = None


class ChatAndFile(OpenModel):
    allow_chat: StrictBool | None = None
    allow_file_upload: StrictBool | None = None


class InteractiveTools(OpenModel):
    allow_chat_and_file: ChatAndFile | None = None
    allow_polls: StrictBool | None = None
    allow_virtual_bg: StrictBool | None = None
    allowed_whiteboard: StrictBool | None = None
    enable_analytics: StrictBool | None = None
    shared_note_pad_features: StrictBool | None = None


class RecordingFeatures(OpenModel):
    enable_auto_cloud_recording: StrictBool | None = None
    is_allow_cloud: StrictBool | None = None
    is_allow_local: StrictBool | None = None
    recording_allow: StrictBool | None = None


class RoomFeatures(OpenModel):
    General_Room_Settings: GeneralRoomSettings | None = None
    additional_features: AdditionalFeatures | None = None
    admin_permission: AdminPermission | None = None
    interactive_tools: InteractiveTools | None = None
    recording_features: RecordingFeatures | None = None


class Limits(QriibModel):
    max_active_rooms: LimitValue | None = None
    max_daily_rooms: LimitValue | None = None
    max_participants_per_room: LimitValue | None = None
    max_api_calls_per_day: LimitValue | None = None
    extra_config: dict[str, Any] | None = None

    def problems(self) -> dict[str, str]:
        # Conclave caps max_participants at this limit; a room needs at least one participant.
        if self.max_participants_per_room == 0:
            return {"max_participants_per_room": "Value must be at least 1"}
        return {}


LockSettings = dict[str, StrictBool]
Features = Annotated[RoomFeatures | None, BeforeValidator(_one_object)]


class ProjectFieldsIn(QriibModel):
    default_project: StrictBool | None = None
    webhook_url: OptionalUrl = None
    logout_url: OptionalUrl = None
    domain: OptionalUrl = None
    room_features: Features = None
    default_lock_settings: LockSettings | None = None
    extra_data: dict[str, Any] | None = None
    limits: Limits | None = None

    def problems(self) -> dict[str, str]:
        problems = self.limits.problems() if self.limits else {}
        if self.extra_data and NAMESPACE in self.extra_data:
            problems[f"extra_data.{NAMESPACE}"] = "Reserved key"
        return problems


class ProjectCreateIn(ProjectFieldsIn):
    # Qriib creates the project and then fails on the limits ("Project created, but failed to
    # create limits"); Conclave refuses the whole request, so the message says what happened.
    limits_message: ClassVar[str] = "Project not created: invalid limits"

    organization_id: StrictStr
    project_name: Annotated[StrictStr, Field(min_length=1, max_length=200)]


class ProjectUpdateIn(ProjectFieldsIn):
    """The description marks ``webhook_url``, ``default_lock_settings`` and its
    ``lock_microphone`` as required; the other fields change only when sent."""

    required: ClassVar[tuple[str, ...]] = ("webhook_url", "default_lock_settings")
    project_name: Annotated[StrictStr, Field(min_length=1, max_length=200)] | None = None

    def problems(self) -> dict[str, str]:
        problems = super().problems()
        for name in self.required:
            if name not in self.model_fields_set:
                problems[name] = f"The field '{name}' is required."
        if self.default_lock_settings is not None and "lock_microphone" not in self.default_lock_settings:
            problems["lock_microphone"] = "The field 'lock_microphone' is required."
        return problems


class ProjectStatusIn(QriibModel):
    status: Any = None


# -- translation to native fields ------------------------------------------------------------------

NATIVE_NAMES = {
    "name": "project_name",
    "is_default": "default_project",
    "features": "room_features",
    "lock_settings": "default_lock_settings",
}


def native_project_fields(data: ProjectFieldsIn, current_extra: dict[str, Any] | None) -> dict[str, Any]:
    """The native ``ProjectFields`` values for what the caller sent.

    ``limits.extra_config`` has no column: it lives under ``extra_data["qriib"]`` next to the
    caller's own ``extra_data``, and is hidden again when a project is shown.
    """
    sent = data.model_fields_set
    values: dict[str, Any] = {}
    if "default_project" in sent and data.default_project is not None:
        values["is_default"] = data.default_project
    for name in ("webhook_url", "logout_url", "domain"):
        if name in sent:
            values[name] = getattr(data, name)
    if "room_features" in sent:
        values["features"] = data.room_features.model_dump(exclude_unset=True) if data.room_features else {}
    if "default_lock_settings" in sent:
        values["lock_settings"] = data.default_lock_settings or {}
    current = dict(current_extra or {})
    namespace = dict(current.get(NAMESPACE) or {})
    extra = {k: v for k, v in current.items() if k != NAMESPACE}
    if "extra_data" in sent:
        extra = dict(data.extra_data or {})
    if "limits" in sent:
        if data.limits is None:
            values["limits"] = None
            namespace.pop("limits_extra_config", None)
        else:
            values["limits"] = data.limits.model_dump(include=set(LIMIT_NAMES), exclude_unset=True)
            if "extra_config" in data.limits.model_fields_set:
                namespace["limits_extra_config"] = data.limits.extra_config or {}
    if "extra_data" in sent or "limits" in sent:
        values["extra_data"] = {**extra, **({NAMESPACE: namespace} if namespace else {})}
    return values


# -- responses -------------------------------------------------------------------------------------


def room_status(room: Room) -> str:
    """Qriib calls a room active from creation until it ends; Conclave splits that into idle/live."""
    return {"idle": "active", "live": "active"}.get(room.status, room.status)


def room_metadata(room: Room) -> dict[str, Any]:
    return {key: value for key, value in room.meta.items() if key != NAMESPACE}


def room_extra(room: Room) -> dict[str, Any]:
    extra: dict[str, Any] = room.meta.get(NAMESPACE) or {}
    return extra


def room_info(room: Room) -> dict[str, Any]:
    extra = room_extra(room)
    start = isoformat(room.scheduled_start_at)
    return {
        "room_id": room.id,
        "client_room_id": room.external_id,
        "name": extra.get("name"),
        "moderator_id": extra.get("moderator_id"),
        "room_type": room.kind,
        "status": room_status(room),
        "max_participants": room.max_participants,
        "empty_timeout": room.empty_timeout,
        "metadata": room_metadata(room),
        "start_at": start,
        "scheduled_time": start,
        "created_at": isoformat(room.created_at),
        "ended_at": isoformat(room.ended_at),
    }


def room_created(room: Room) -> dict[str, Any]:
    """The synthetic examples echo the request (numbers as integers) next to ``room_id``."""
    extra = room_extra(room)
    return {
        "room_id": room.id,
        "name": extra.get("name"),
        "client_room_id": room.external_id,
        "moderator_id": extra.get("moderator_id"),
        "max_participants": room.max_participants,
        "empty_timeout": room.empty_timeout,
        "metadata": room_metadata(room),
    }


def project_limits(project: Project) -> dict[str, Any] | None:
    """``null`` when the project has no limits, as in the captured ``get_project``."""
    extra_config = (project.extra_data.get(NAMESPACE) or {}).get("limits_extra_config")
    limits = project.limits
    if extra_config is None and all(value is None for value in limits.values()):
        return None
    return {**limits, "extra_config": extra_config or {}}


def project_full(project: Project, key: SigningKey | None) -> dict[str, Any]:
    """``PROJECT_FULL`` of the captured ``get_project`` (plus ``default_project`` and ``created_date``)."""
    return {
        "api_key": key.key_id if key else None,
        "default_lock_settings": {**dict.fromkeys(LOCK_FLAGS, False), **project.lock_settings},
        "domain": project.domain,
        "extra_data": {k: v for k, v in project.extra_data.items() if k != NAMESPACE},
        "id": project.id,
        "limits": project_limits(project),
        "logout_url": project.logout_url,
        "name": project.name,
        "room_features": [project.features] if project.features else [],
        "secret_key": key.secret if key else None,
        "status": project.status,
        "webhook_url": project.webhook_url,
        "default_project": project.is_default,
        "created_date": format_datetime(project.created_at.astimezone(UTC), usegmt=True),
    }


def project_summary(project: Project, key: SigningKey | None) -> dict[str, Any]:
    """``PROJECT_SUMMARY`` of the captured ``get_projects``; Conclave has no extra domains list."""
    return {
        "api_key": key.key_id if key else None,
        "created_date": format_datetime(project.created_at.astimezone(UTC), usegmt=True),
        "default_project": project.is_default,
        "domain": project.domain,
        "domains_list": [],
        "id": project.id,
        "name": project.name,
        "secret_key": key.secret if key else None,
        "status": project.status,
    }


def organization_projects(organization: Organization, projects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"organization": organization.name, "projects": projects}

"""The only code that changes room rows; also owns a project's default room settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from conclave.access.schemas import TokenRequest
from conclave.access.service import AccessService, IssuedAccessToken
from conclave.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from conclave.kit.events import DomainEvent, emit
from conclave.kit.ids import new_friendly_url
from conclave.kit.pagination import PageParams
from conclave.kit.read_cache import ReadCache, attached
from conclave.kit.time import utcnow
from conclave.rooms.models import Room, RoomTag
from conclave.rooms.repository import (
    RoomLookups,
    RoomQuery,
    RoomRepository,
    room_in_organization,
    room_with_project,
    rooms_by_global_ref,
)
from conclave.rooms.schemas import RoomCreate, RoomDefaultsUpdate, RoomSettingsInput, RoomUpdate
from conclave.rooms.settings import CORE_DEFAULTS, SETTING_NAMES, project_defaults
from conclave.tenancy.models import Project
from conclave.tenancy.service import TenancyService

if TYPE_CHECKING:
    from conclave.scenes.service import SceneService

_SETTABLE = frozenset(CORE_DEFAULTS) | frozenset(SETTING_NAMES)
_PLAIN_COLUMNS = (
    "external_id",
    "name",
    "description",
    "kind",
    "scheduled_start_at",
    "nbf",
    "exp",
    "empty_timeout",
    "scene_id",
    "return_url",
)


def _provided_settings(data: RoomSettingsInput) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in data.model_fields_set & _SETTABLE:
        value = getattr(data, name)
        values[name] = value.model_dump() if name == "toolbar" else value
    return values


@dataclass(frozen=True)
class TokenRoomFacts:
    """A room as signing a token sees it (``access.service.TokenRoom``), cached by its reference."""

    id: str
    friendly_url: str
    roles: tuple[str, ...]
    default_role: str


class RoomService:
    def __init__(
        self,
        tenancy: TenancyService,
        access: AccessService,
        scenes: SceneService | None = None,
        *,
        cache_ttl_seconds: float = 0.0,
    ) -> None:
        self.tenancy = tenancy
        self.access = access
        self.scenes = scenes
        # A new room changes no other room's facts, so only updates and deletes empty it.
        self._token_rooms: ReadCache[tuple[str, str], TokenRoomFacts] = ReadCache(
            ("rooms",), ttl_seconds=cache_ttl_seconds, watch_inserts=False
        )

    # -- default settings --------------------------------------------------------------------

    def defaults(self, project: Project) -> dict[str, Any]:
        """What a room created now gets; ``max_participants`` is capped by the project's limit."""
        values = project_defaults(project.room_defaults)
        limit = project.max_participants_per_room
        if limit is not None:
            values["max_participants"] = min(values["max_participants"], limit)
        return {**values, "domain": project.domain}

    async def update_defaults(
        self, session: AsyncSession, project: Project, data: RoomDefaultsUpdate
    ) -> dict[str, Any]:
        changes = _provided_settings(data)
        merged = {**project_defaults(project.room_defaults), **changes}
        await self._check_roles(session, project, merged["roles"], merged["default_role"])
        if "max_participants" in changes:
            self._check_participant_limit(project, changes["max_participants"])
        project = attached(session, project)
        await self.tenancy.set_room_defaults(project, {**project.room_defaults, **changes})
        if "domain" in data.model_fields_set:
            project.domain = data.domain
        return self.defaults(project)

    # -- rooms -------------------------------------------------------------------------------

    async def get_room(
        self, session: AsyncSession, project_id: str, ref: str, *, with_tags: bool = True
    ) -> Room:
        """``with_tags=False`` skips loading tags for callers that never show the room."""
        room = await RoomRepository(session, project_id).by_ref(ref, with_tags=with_tags)
        if room is None:
            raise NotFound(f"room {ref!r} not found", code="room_not_found")
        return room

    async def token_room(self, session: AsyncSession, project_id: str, ref: str) -> TokenRoomFacts:
        """The room a token request names (UUID or friendly_url), from the cache when it can.

        A room deleted since it was cached is caught when the token's row is written: its
        foreign key fails and the request answers 404 (``AccessService.issue_token``).
        """

        async def load() -> TokenRoomFacts:
            room = await self.get_room(session, project_id, ref, with_tags=False)
            return TokenRoomFacts(room.id, room.friendly_url, tuple(room.roles), room.default_role)

        return await self._token_rooms.get_or_load((project_id, ref), load)

    async def list_rooms(
        self, session: AsyncSession, project_id: str, params: PageParams, tags: list[str]
    ) -> tuple[list[Room], int]:
        repository = RoomRepository(session, project_id)
        cursor = None
        if params.after is not None:
            cursor = await repository.by_ref(params.after)
            if cursor is None:
                raise NotFound(f"room {params.after!r} given as 'after' not found", code="room_not_found")
        return await repository.page(params, tags, cursor)

    async def create_room(self, session: AsyncSession, project: Project, data: RoomCreate) -> Room:
        repository = RoomRepository(session, project.id)
        if "default_role" in data.model_fields_set and "roles" not in data.model_fields_set:
            raise ValidationFailed("roles must be provided when default_role is set", code="roles_required")
        values = self.defaults(project)
        values |= _provided_settings(data)
        await self._check_roles(session, project, values["roles"], values["default_role"])
        self._check_participant_limit(project, values["max_participants"])
        if data.scene_id is not None:
            await self.check_scene(session, project.id, data.scene_id)

        # With an active-room limit, counting the creation comes first and serialises the
        # project's concurrent creations (``count_room_created``), so the count below is exact;
        # otherwise it comes last.
        opens_now = not (data.scheduled_start_at and data.scheduled_start_at > utcnow())
        if opens_now and project.max_active_rooms is not None:
            await self.tenancy.count_room_created(session, project, serialise=True)
            await self._check_active_rooms(repository, project.max_active_rooms)
        friendly_url = await self._friendly_url(repository, data.friendly_url)
        await self._check_external_id(repository, data.external_id)

        settings = {name: values[name] for name in SETTING_NAMES}
        core = {name: values[name] for name in CORE_DEFAULTS}
        room = Room(
            project_id=project.id,
            friendly_url=friendly_url,
            settings=settings,
            meta=data.metadata or {},
            kind=data.kind or "video",
            **core,
        )
        for name in _PLAIN_COLUMNS:
            if name != "kind" and name in data.model_fields_set:
                setattr(room, name, getattr(data, name))
        room.status = self._initial_status(room)
        room.tag_rows = [RoomTag(tag=tag) for tag in dict.fromkeys(data.tags or [])]
        await repository.insert_new(room)
        if not (opens_now and project.max_active_rooms is not None):
            await self.tenancy.count_room_created(session, project)
        emit(session, self._event("room.created", room))
        return room

    async def update_room(self, session: AsyncSession, project: Project, ref: str, data: RoomUpdate) -> Room:
        repository = RoomRepository(session, project.id)
        room = await self.get_room(session, project.id, ref)
        changes = _provided_settings(data)
        roles = changes.get("roles", room.roles)
        default_role = changes.get("default_role", room.default_role)
        if "roles" in changes or "default_role" in changes:
            await self._check_roles(session, project, roles, default_role)
        if "max_participants" in changes:
            self._check_participant_limit(project, changes["max_participants"])
        fields = data.model_fields_set
        if "friendly_url" in fields and data.friendly_url != room.friendly_url:
            room.friendly_url = await self._friendly_url(repository, data.friendly_url, except_id=room.id)
        if "external_id" in fields and data.external_id != room.external_id:
            await self._check_external_id(repository, data.external_id, except_id=room.id)
        if "scene_id" in fields and data.scene_id is not None and data.scene_id != room.scene_id:
            await self.check_scene(session, project.id, data.scene_id)
        nbf = data.nbf if "nbf" in fields else room.nbf
        exp = data.exp if "exp" in fields else room.exp
        if nbf and exp and exp <= nbf:
            raise ValidationFailed("exp must be later than nbf", code="invalid_time_window")

        settings = dict(room.settings)
        for name, value in changes.items():
            if name in CORE_DEFAULTS:
                setattr(room, name, value)
            else:
                settings[name] = value
        room.settings = settings
        for name in _PLAIN_COLUMNS:
            if name in fields:
                setattr(room, name, getattr(data, name))
        if "metadata" in fields:
            room.meta = data.metadata or {}
        if "tags" in fields:
            room.tag_rows = [RoomTag(tag=tag) for tag in dict.fromkeys(data.tags or [])]
        if "scheduled_start_at" in fields and room.status in ("scheduled", "idle"):
            status = self._initial_status(room)
            if room.status == "scheduled" and status == "idle" and project.max_active_rooms is not None:
                await self._check_active_rooms(repository, project.max_active_rooms)
            room.status = status
        room.updated_at = utcnow()
        await session.flush()
        emit(session, self._event("room.updated", room, changed=sorted(fields)))
        return room

    async def open_scheduled_room(self, session: AsyncSession, project: Project, ref: str) -> Room:
        """Open a scheduled room now (Qriib ``start_schedule_room``); the active-room limit applies."""
        room = await self.get_room(session, project.id, ref)
        if room.status == "ended":
            raise Conflict("the room has ended", code="room_ended")
        if room.status == "scheduled":
            if project.max_active_rooms is not None:
                await self._check_active_rooms(RoomRepository(session, project.id), project.max_active_rooms)
            room.status = "idle"
            room.scheduled_start_at = utcnow()
            room.updated_at = utcnow()
            emit(session, self._event("room.updated", room, changed=["status"]))
        return room

    async def end_room(self, session: AsyncSession, project: Project, ref: str) -> Room:
        """Close a room for good (Qriib ``end_room``, Videsk ``ended``): no one can join it again."""
        room = await self.get_room(session, project.id, ref)
        if room.status != "ended":
            room.status = "ended"
            room.ended_at = utcnow()
            room.updated_at = utcnow()
            emit(session, self._event("room.ended", room))
        return room

    async def reopen_room(self, session: AsyncSession, project: Project, ref: str) -> Room:
        """Undo ``end_room`` (Videsk ``ended: false``); counts against the active-room limit again."""
        room = await self.get_room(session, project.id, ref)
        if room.status == "ended":
            if project.max_active_rooms is not None:
                await self._check_active_rooms(RoomRepository(session, project.id), project.max_active_rooms)
            room.status = self._initial_status(room)
            room.ended_at = None
            room.updated_at = utcnow()
            emit(session, self._event("room.updated", room, changed=["status"]))
        return room

    async def find_for_join(self, session: AsyncSession, *, room_id: str | None, ref: str | None) -> Room:
        """The room a realtime join names: by the token's room id, or by a meeting-URL ref."""
        if room_id is not None:
            found = await room_with_project(session, room_id)
            if found is None:
                raise NotFound("the room of this token no longer exists", code="room_not_found")
            return found
        candidates = await rooms_by_global_ref(session, ref or "")
        if not candidates:
            raise NotFound(f"room {ref!r} not found", code="room_not_found")
        if len(candidates) > 1:
            raise Conflict(
                f"several projects have a room {ref!r}: join with its id or a token", code="room_ambiguous"
            )
        return candidates[0]

    async def set_locked(self, session: AsyncSession, project_id: str, room_id: str, locked: bool) -> Room:
        """Lock or unlock from inside a meeting (a moderator's request)."""
        room = await self.get_room(session, project_id, room_id)
        if room.is_locked != locked:
            room.is_locked = locked
            room.updated_at = utcnow()
            emit(session, self._event("room.updated", room, changed=["is_locked"]))
        return room

    def mark_live(self, room: Room) -> None:
        """A session started; only the sessions service calls this, inside its transaction."""
        room.status = "live"

    def mark_session_over(self, room: Room) -> None:
        if room.status == "live":
            room.status = "idle"

    async def delete_room(self, session: AsyncSession, project: Project, ref: str) -> None:
        room = await self.get_room(session, project.id, ref)
        if room.status == "live":
            raise Conflict("the room has a live session; end it before deleting the room", code="room_live")
        emit(session, self._event("room.deleted", room))
        await session.delete(room)

    async def delete_rooms_by_tags(
        self, session: AsyncSession, project: Project, tags: list[str]
    ) -> tuple[list[str], list[str]]:
        """Delete every room carrying any of ``tags``; rooms with a live session are skipped."""
        deleted: list[str] = []
        skipped: list[str] = []
        for room in await RoomRepository(session, project.id).with_any_tag(tags):
            if room.status == "live":
                skipped.append(room.id)
                continue
            emit(session, self._event("room.deleted", room))
            await session.delete(room)
            deleted.append(room.id)
        return deleted, skipped

    def view(self, room: Room) -> dict[str, Any]:
        """The reference's flat room object: columns and settings side by side."""
        return {
            **room.settings,
            "id": room.id,
            "friendly_url": room.friendly_url,
            "external_id": room.external_id,
            "name": room.name,
            "description": room.description,
            "kind": room.kind,
            "privacy": room.privacy,
            "is_locked": room.is_locked,
            "room_url": self.access.room_link(room),
            "status": room.status,
            "max_participants": room.max_participants,
            "session_length": room.session_length,
            "empty_timeout": room.empty_timeout,
            "default_role": room.default_role,
            "roles": room.roles,
            "tags": room.tags,
            "metadata": room.meta,
            "scheduled_start_at": room.scheduled_start_at,
            "nbf": room.nbf,
            "exp": room.exp,
            "scene_id": room.scene_id,
            "return_url": room.return_url,
            "created_at": room.created_at,
            "updated_at": room.updated_at,
        }

    # -- rules -------------------------------------------------------------------------------

    async def _check_roles(
        self, session: AsyncSession, project: Project, roles: list[str], default_role: str
    ) -> None:
        if default_role not in roles:
            raise ValidationFailed(
                f"default_role {default_role!r} must be one of roles",
                code="default_role_not_in_roles",
                details={"roles": roles},
            )
        unknown = sorted(await self.access.unknown_roles(session, project.id, roles))
        if unknown:
            raise ValidationFailed(
                f"unknown roles: {', '.join(unknown)}", code="unknown_role", details={"unknown": unknown}
            )

    @staticmethod
    def _check_participant_limit(project: Project, max_participants: int) -> None:
        limit = project.max_participants_per_room
        if limit is not None and max_participants > limit:
            raise Forbidden(
                f"max_participants may not exceed the project's limit of {limit}",
                code="max_participants_per_room_exceeded",
                details={"limit": limit},
            )

    @staticmethod
    async def _check_active_rooms(repository: RoomRepository, limit: int) -> None:
        """Active = open (idle or live), as in Qriib where a room is active from creation until it ends."""
        if await repository.count_active() >= limit:
            raise Forbidden(
                f"the project may have at most {limit} active rooms",
                code="max_active_rooms_reached",
                details={"limit": limit},
            )

    @staticmethod
    async def _friendly_url(
        repository: RoomRepository, wanted: str | None, *, except_id: str | None = None
    ) -> str:
        """A wanted path is checked for a clear 409; a generated one (≈10^14 choices) is not
        queried first: the unique constraint still guards against the improbable collision."""
        if wanted is None:
            return new_friendly_url()
        if await repository.friendly_url_taken(wanted, except_id=except_id):
            raise Conflict(
                f"friendly_url {wanted!r} is already used by another room", code="friendly_url_taken"
            )
        return wanted

    @staticmethod
    async def _check_external_id(
        repository: RoomRepository, external_id: str | None, *, except_id: str | None = None
    ) -> None:
        if external_id is not None and await repository.external_id_taken(external_id, except_id=except_id):
            raise Conflict(
                f"external_id {external_id!r} is already used by another room", code="external_id_taken"
            )

    @staticmethod
    def _initial_status(room: Room) -> str:
        return "scheduled" if room.scheduled_start_at and room.scheduled_start_at > utcnow() else "idle"

    @staticmethod
    def _event(event_type: str, room: Room, **extra: Any) -> DomainEvent:
        data = {
            "room_id": room.id,
            "friendly_url": room.friendly_url,
            "external_id": room.external_id,
            "name": room.name,
            "is_locked": room.is_locked,
            **extra,
        }
        return DomainEvent(type=event_type, project_id=room.project_id, room_id=room.id, data=data)

    # -- compatible surfaces: scene references, Videsk ids, filtered lists, organization-wide ids ---

    async def check_scene(self, session: AsyncSession, project_id: str, scene_id: str) -> None:
        """A room's ``scene_id`` must name one of the project's scenes (422 ``scene_not_found``)."""
        if self.scenes is not None:
            await self.scenes.require_scene(session, project_id, scene_id)

    async def get_room_by_id_prefix(self, session: AsyncSession, project_id: str, prefix: str) -> Room:
        """The room whose UUID starts with ``prefix``; Videsk's 24-hex ids are such prefixes."""
        room = await RoomLookups(session, project_id).by_id_prefix(prefix)
        if room is None:
            raise NotFound(f"room {prefix!r} not found", code="room_not_found")
        return room

    async def search_rooms(
        self, session: AsyncSession, project_id: str, query: RoomQuery
    ) -> tuple[list[Room], int]:
        return await RoomLookups(session, project_id).search(query)

    async def get_room_in_organization(
        self, session: AsyncSession, organization_id: str, room_id: str
    ) -> Room:
        """A room by UUID in any of the organization's projects; others' ids are not found."""
        room = await room_in_organization(session, organization_id, room_id)
        if room is None:
            raise NotFound(f"room {room_id!r} not found", code="room_not_found")
        return room

    async def list_open_rooms(self, session: AsyncSession, project_id: str) -> list[Room]:
        """Every idle or live room of a project, oldest first (Qriib's active-rooms list has no paging)."""
        return await RoomRepository(session, project_id).open_rooms()

    async def get_room_by_external_id(self, session: AsyncSession, project_id: str, external_id: str) -> Room:
        """A room by the caller's own id (Qriib ``client_room_id``)."""
        room = await RoomRepository(session, project_id).by_external_id(external_id)
        if room is None:
            raise NotFound(f"room with external_id {external_id!r} not found", code="room_not_found")
        return room

    async def issue_join_token(
        self, session: AsyncSession, project: Project, ref: str, data: TokenRequest
    ) -> tuple[Room, IssuedAccessToken]:
        """A token for someone to join a room that has not ended (an ended room admits no one)."""
        room = await self.get_room(session, project.id, ref)
        if room.status == "ended":
            raise Conflict("the room has ended", code="room_ended")
        return room, await self.access.issue_token(session, project, room, data)

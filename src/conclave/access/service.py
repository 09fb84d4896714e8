"""The only code that changes roles and issued-token rows, and the one place tokens are signed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.access.models import BanRule, IssuedToken, Role
from conclave.access.permissions import BUILT_IN_ROLES, PERMISSIONS, permission_map
from conclave.access.repository import (
    INSERT_ISSUED_TOKEN,
    BanRepository,
    IssuedTokenRepository,
    RoleRepository,
)
from conclave.access.schemas import RoleCreate, RoleUpdate, TokenRequest
from conclave.access.signing import sign_hs256
from conclave.kit.errors import Conflict, NotFound, ValidationFailed
from conclave.kit.group_commit import GroupCommitter
from conclave.kit.ids import new_id
from conclave.kit.pagination import PageParams
from conclave.kit.time import from_timestamp, utcnow
from conclave.kit.transaction import has_used_database
from conclave.tenancy.models import Project
from conclave.tenancy.service import TenancyService

MAX_CUSTOM_ROLES = 100


@dataclass(frozen=True)
class RoleView:
    """A role as the API shows it: built-in roles are constants, custom ones are rows."""

    id: str
    name: str
    display_name: str
    permissions: dict[str, bool]
    built_in: bool
    created_at: datetime | None = None
    updated_at: datetime | None = None


def _built_in_view(name: str) -> RoleView:
    display_name, granted = BUILT_IN_ROLES[name]
    return RoleView(
        id=name, name=name, display_name=display_name, permissions=permission_map(granted), built_in=True
    )


def _row_view(role: Role) -> RoleView:
    granted = {name for name, allowed in role.permissions.items() if allowed}
    return RoleView(
        id=role.id,
        name=role.name,
        display_name=role.display_name,
        permissions=permission_map(granted),
        built_in=False,
        created_at=role.created_at,
        updated_at=role.updated_at,
    )


def _check_permissions(permissions: dict[str, bool]) -> None:
    unknown = sorted(set(permissions) - set(PERMISSIONS))
    if unknown:
        raise ValidationFailed(
            f"unknown permissions: {', '.join(unknown)}",
            code="unknown_permission",
            details={"known": list(PERMISSIONS)},
        )


class TokenRoom(Protocol):
    """What signing a token needs of its room: a ``Room`` row or its cached facts."""

    @property
    def id(self) -> str: ...
    @property
    def friendly_url(self) -> str: ...
    @property
    def roles(self) -> Sequence[str]: ...
    @property
    def default_role(self) -> str: ...


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    link: str
    jti: str


class AccessService:
    def __init__(
        self,
        tenancy: TenancyService,
        public_url: str,
        default_ttl_seconds: int,
        group_commit: GroupCommitter,
    ) -> None:
        self.tenancy = tenancy
        self.public_url = public_url
        self.default_ttl_seconds = default_ttl_seconds
        self.group_commit = group_commit

    # -- roles -------------------------------------------------------------------------------

    async def list_roles(self, session: AsyncSession, project_id: str) -> list[RoleView]:
        custom = await RoleRepository(session, project_id).all()
        return [_built_in_view(name) for name in BUILT_IN_ROLES] + [_row_view(role) for role in custom]

    async def unknown_roles(self, session: AsyncSession, project_id: str, names: list[str]) -> set[str]:
        """Names that are neither built-in nor the project's custom roles (no query for built-ins)."""
        custom = set(names) - set(BUILT_IN_ROLES)
        if not custom:
            return set()
        return custom - {role.name for role in await RoleRepository(session, project_id).all()}

    async def get_role(self, session: AsyncSession, project_id: str, id_or_name: str) -> RoleView:
        if id_or_name in BUILT_IN_ROLES:
            return _built_in_view(id_or_name)
        role = await RoleRepository(session, project_id).by_id_or_name(id_or_name)
        if role is None:
            raise NotFound(f"role {id_or_name!r} not found", code="role_not_found")
        return _row_view(role)

    async def _custom_role(self, session: AsyncSession, project_id: str, id_or_name: str) -> Role:
        if id_or_name in BUILT_IN_ROLES:
            raise Conflict(f"built-in role {id_or_name!r} cannot be changed or deleted", code="role_built_in")
        role = await RoleRepository(session, project_id).by_id_or_name(id_or_name)
        if role is None:
            raise NotFound(f"role {id_or_name!r} not found", code="role_not_found")
        return role

    async def create_role(self, session: AsyncSession, project_id: str, data: RoleCreate) -> RoleView:
        repository = RoleRepository(session, project_id)
        if data.name in BUILT_IN_ROLES or await repository.by_id_or_name(data.name) is not None:
            raise Conflict(f"a role named {data.name!r} already exists", code="role_exists")
        if len(await repository.all()) >= MAX_CUSTOM_ROLES:
            raise Conflict(
                f"a project may have at most {MAX_CUSTOM_ROLES} custom roles", code="too_many_roles"
            )
        _check_permissions(data.permissions)
        role = Role(
            project_id=project_id,
            name=data.name,
            display_name=data.display_name or data.name,
            permissions=permission_map({k for k, v in data.permissions.items() if v}),
        )
        session.add(role)
        await session.flush()
        return _row_view(role)

    async def update_role(
        self, session: AsyncSession, project_id: str, id_or_name: str, data: RoleUpdate
    ) -> RoleView:
        role = await self._custom_role(session, project_id, id_or_name)
        if data.display_name is not None:
            role.display_name = data.display_name
        if data.permissions is not None:
            _check_permissions(data.permissions)
            merged = {**role.permissions, **data.permissions}
            role.permissions = permission_map({k for k, v in merged.items() if v})
        await session.flush()
        return _row_view(role)

    async def delete_role(self, session: AsyncSession, project: Project, id_or_name: str) -> None:
        role = await self._custom_role(session, project.id, id_or_name)
        in_use = await RoleRepository(session, project.id).rooms_using(role.name)
        defaults = project.room_defaults
        if in_use or role.name in defaults.get("roles", []) or defaults.get("default_role") == role.name:
            raise Conflict(
                f"role {role.name!r} is still used",
                code="role_in_use",
                details={"rooms": in_use[:50], "in_default_settings": not in_use},
            )
        await session.delete(role)

    # -- bans --------------------------------------------------------------------------------

    async def create_ban(
        self,
        session: AsyncSession,
        project_id: str,
        *,
        room_id: str | None,
        external_id: str | None,
        ip: str | None,
        duration_seconds: int | None,
        reason: str | None,
    ) -> BanRule:
        if external_id is None and ip is None:
            raise ValidationFailed("a ban needs an external_id or an ip", code="ban_target_required")
        expires = utcnow() + timedelta(seconds=duration_seconds) if duration_seconds else None
        ban = BanRule(
            project_id=project_id,
            room_id=room_id,
            external_id=external_id,
            ip=ip,
            reason=reason,
            expires_at=expires,
        )
        session.add(ban)
        await session.flush()
        return ban

    async def find_ban(
        self, session: AsyncSession, project_id: str, room_id: str, external_id: str | None, ip: str | None
    ) -> BanRule | None:
        return await BanRepository(session, project_id).matching(room_id, external_id, ip, utcnow())

    async def list_bans(
        self, session: AsyncSession, project_id: str, params: PageParams, room_id: str | None
    ) -> tuple[list[BanRule], int]:
        repository = BanRepository(session, project_id)
        cursor = await repository.get(params.after) if params.after else None
        if params.after and cursor is None:
            raise NotFound(f"ban {params.after!r} given as 'after' not found", code="ban_not_found")
        return await repository.page(params, room_id, cursor)

    async def delete_ban(self, session: AsyncSession, project_id: str, ban_id: str) -> None:
        ban = await BanRepository(session, project_id).get(ban_id)
        if ban is None:
            raise NotFound(f"ban {ban_id!r} not found", code="ban_not_found")
        await session.delete(ban)

    # -- tokens ------------------------------------------------------------------------------

    async def record_token_use(
        self, session: AsyncSession, project_id: str, jti: str, ip: str | None
    ) -> None:
        """Note that a token admitted someone (Videsk ``authorizations`` show the first use)."""
        await IssuedTokenRepository(session, project_id).record_use(jti, ip, utcnow())

    async def issued_tokens(self, session: AsyncSession, project_id: str, room_id: str) -> list[IssuedToken]:
        """Tokens issued for a room, oldest first, with where and when each was first used."""
        return await IssuedTokenRepository(session, project_id).for_room(room_id)

    def room_link(self, room: TokenRoom) -> str:
        return f"{self.public_url}/meet/{room.friendly_url}"

    async def issue_token(
        self, session: AsyncSession, project: Project, room: TokenRoom, data: TokenRequest
    ) -> IssuedAccessToken:
        """Sign an HS256 JWT with the project's newest secret (``kid`` names it) and record its jti.

        The jti is recorded in the request's transaction if the request has used the database;
        otherwise (everything it needed was cached) it joins the group commit (``kit.group_commit``).
        """
        role = data.role or room.default_role
        if role not in room.roles:
            raise ValidationFailed(
                f"role {role!r} is not one of this room's roles",
                code="unknown_role",
                details={"roles": room.roles},
            )
        now = int(utcnow().timestamp())
        nbf = data.nbf if data.nbf is not None else now
        exp = data.exp if data.exp is not None else max(nbf, now) + self.default_ttl_seconds
        if exp <= now:
            raise ValidationFailed("exp must be in the future", code="token_expired")
        if exp <= nbf:
            raise ValidationFailed("exp must be later than nbf", code="invalid_token_window")
        keys = await self.tenancy.signing_keys(session, project.id)
        if not keys:
            raise Conflict("the project has no active credential to sign tokens with", code="no_signing_key")
        jti = new_id()
        claims: dict[str, Any] = {
            key: value
            for key, value in {
                "ud": data.ud,
                "u": data.u,
                "initials": data.initials,
                "avatar": data.avatar,
                "breakoutId": data.breakoutId,
            }.items()
            if value is not None
        }
        claims |= {
            "role": role,
            "room_id": room.id,
            "project_id": project.id,
            "jti": jti,
            "iat": now,
            "nbf": nbf,
            "exp": exp,
        }
        token = sign_hs256(claims, keys[0].secret, key_id=keys[0].key_id)
        record = {
            "jti": jti,
            "project_id": project.id,
            "room_id": room.id,
            "key_id": keys[0].key_id,
            "user_external_id": data.ud,
            "display_name": data.u,
            "role": role,
            "not_before": from_timestamp(nbf),
            "expires_at": from_timestamp(exp),
        }
        if has_used_database(session):
            await IssuedTokenRepository(session, project.id).add(record)
        else:
            try:
                await self.group_commit.insert(INSERT_ISSUED_TOKEN, record)
            except IntegrityError:  # the room was deleted since it was read (from the cache)
                raise NotFound(f"room {room.id!r} not found", code="room_not_found") from None
        return IssuedAccessToken(token=token, link=f"{self.room_link(room)}?token={token}", jti=jti)

"""Admit a join: check an access token against the room's project secrets and roles.

The signalling endpoint and the meeting page call this; it never trusts a claim before the
signature is checked with one of the project's usable secrets (``kid`` picks it when present;
tokens that developers sign themselves without ``kid`` are tried against every usable secret).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.access.service import AccessService
from conclave.kit.errors import Unauthorized
from conclave.kit.time import from_timestamp
from conclave.rooms.models import Room
from conclave.tenancy.service import TenancyService

CLOCK_SKEW_SECONDS = 10


class TokenRejected(Unauthorized):
    code = "invalid_token"


@dataclass(frozen=True)
class AccessGrant:
    room_id: str
    project_id: str
    role: str
    permissions: dict[str, bool]
    jti: str | None
    user_external_id: str | None
    display_name: str | None
    initials: str | None
    avatar: str | None
    breakout_id: str | None
    expires_at: datetime


@functools.lru_cache(maxsize=1024)
def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A token's header and claims, unchecked; remembered, as a join reads them more than once."""
    try:
        decoded = jwt.api_jwt.decode_complete(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    return decoded["header"], decoded["payload"]


def unverified_room_id(token: str) -> str | None:
    """The room a token names, to find the room before verifying (never trust it alone)."""
    unverified = _unverified(token)
    value = unverified[1].get("room_id") if unverified is not None else None
    return value if isinstance(value, str) else None


class TokenVerifier:
    def __init__(self, tenancy: TenancyService, access: AccessService) -> None:
        self.tenancy = tenancy
        self.access = access

    async def verify(self, session: AsyncSession, token: str, room: Room) -> AccessGrant:
        unverified = _unverified(token)
        if unverified is None:
            raise TokenRejected("the access token is malformed", code="token_malformed")
        header = unverified[0]
        if header.get("alg") != "HS256":
            raise TokenRejected("access tokens must be signed with HS256", code="token_malformed")
        keys = await self.tenancy.signing_keys(session, room.project_id)
        kid = header.get("kid")
        candidates = [key for key in keys if key.key_id == kid] if kid else keys
        claims = self._decode(token, [key.secret for key in candidates])
        if (
            claims.get("room_id", room.id) != room.id
            or claims.get("project_id", room.project_id) != room.project_id
        ):
            raise TokenRejected("the access token is for another room", code="token_wrong_room")
        role_name = claims.get("role") or room.default_role
        if role_name not in room.roles:
            raise TokenRejected(f"role {role_name!r} is not allowed in this room", code="token_unknown_role")
        role = await self.access.get_role(session, room.project_id, role_name)
        return AccessGrant(
            room_id=room.id,
            project_id=room.project_id,
            role=role.name,
            permissions=role.permissions,
            jti=claims.get("jti"),
            user_external_id=claims.get("ud"),
            display_name=claims.get("u"),
            initials=claims.get("initials"),
            avatar=claims.get("avatar"),
            breakout_id=claims.get("breakoutId"),
            expires_at=from_timestamp(claims["exp"]),
        )

    @staticmethod
    def _decode(token: str, secrets: list[str]) -> dict[str, Any]:
        for secret in secrets:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    secret,
                    algorithms=["HS256"],
                    leeway=CLOCK_SKEW_SECONDS,
                    options={"require": ["exp"]},
                )
                return claims
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError:
                raise TokenRejected("the access token has expired", code="token_expired") from None
            except jwt.ImmatureSignatureError:
                raise TokenRejected("the access token is not valid yet", code="token_not_yet_valid") from None
            except jwt.InvalidTokenError as exc:
                raise TokenRejected(f"the access token is invalid: {exc}", code="token_malformed") from None
        raise TokenRejected(
            "the access token is not signed by a current secret of this project", code="token_bad_signature"
        )

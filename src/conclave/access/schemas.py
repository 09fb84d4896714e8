"""Native shapes for roles and room tokens."""

from __future__ import annotations

from pydantic import Field, model_validator

from conclave.kit.schemas import RequestModel, ResponseModel, Timestamp
from conclave.rooms.schemas import RoleName


class RoleCreate(RequestModel):
    name: RoleName
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    permissions: dict[str, bool] = Field(default_factory=dict)


class RoleUpdate(RequestModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    permissions: dict[str, bool] | None = None


class RoleOut(ResponseModel):
    id: str
    name: str
    display_name: str
    permissions: dict[str, bool]
    built_in: bool
    created_at: Timestamp | None
    updated_at: Timestamp | None


class TokenRequest(RequestModel):
    """The claims of the reference's ``POST /rooms/{room}/token``; times are Unix seconds."""

    ud: str | None = Field(default=None, max_length=255, description="Your user's external id.")
    u: str | None = Field(default=None, max_length=255, description="Display name.")
    initials: str | None = Field(default=None, max_length=8)
    role: RoleName | None = Field(
        default=None, description="One of the room's roles; defaults to its default_role."
    )
    avatar: str | None = Field(default=None, max_length=2048, pattern=r"^https?://\S+$")
    breakoutId: str | None = Field(default=None, max_length=64)
    nbf: int | None = Field(default=None, ge=0, le=253402300799)
    exp: int | None = Field(default=None, ge=0, le=253402300799)

    @model_validator(mode="after")
    def _window(self) -> TokenRequest:
        if self.nbf is not None and self.exp is not None and self.exp <= self.nbf:
            raise ValueError("exp must be later than nbf")
        return self


class TokenOut(ResponseModel):
    token: str
    link: str


class BanCreate(RequestModel):
    external_id: str | None = Field(default=None, min_length=1, max_length=255)
    ip: str | None = Field(default=None, max_length=45, pattern=r"^[0-9a-fA-F:.]+$")
    room: str | None = Field(
        default=None, description="Room id or friendly_url; omitted = the whole project."
    )
    duration_seconds: int | None = Field(
        default=None, ge=1, le=10 * 365 * 24 * 3600, description="Omitted = forever."
    )
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _someone(self) -> BanCreate:
        if self.external_id is None and self.ip is None:
            raise ValueError("give external_id and/or ip")
        return self


class BanOut(ResponseModel):
    id: str
    room_id: str | None
    external_id: str | None
    ip: str | None
    reason: str | None
    expires_at: Timestamp | None
    created_at: Timestamp

"""Native request and response shapes for organizations, projects and credentials."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from conclave.kit.schemas import RequestModel, ResponseModel, Timestamp

ProjectStatus = Literal["active", "inactive", "suspended"]
WebhookFormat = Literal["conclave", "xrcloud"]
Name = Field(min_length=1, max_length=200)
MAX_LIMIT = 2**31 - 1
Url = Field(default=None, max_length=2048, pattern=r"^https?://\S+$")


class ProjectLimits(RequestModel):
    # Stored as 32-bit integers (PostgreSQL refused larger ones with a 500).
    max_active_rooms: int | None = Field(default=None, ge=0, le=MAX_LIMIT)
    max_daily_rooms: int | None = Field(default=None, ge=0, le=MAX_LIMIT)
    max_participants_per_room: int | None = Field(default=None, ge=1, le=MAX_LIMIT)
    max_api_calls_per_day: int | None = Field(default=None, ge=0, le=MAX_LIMIT)


class CredentialImport(RequestModel):
    """Existing keys from another platform, kept unchanged so a migrating team's code keeps working."""

    api_key: str | None = Field(default=None, min_length=4, max_length=128, pattern=r"^[!-~]+$")
    secret: str | None = Field(default=None, min_length=8, max_length=256, pattern=r"^[!-~]+$")


class OrganizationCreate(CredentialImport):
    name: str = Name


class OrganizationUpdate(RequestModel):
    name: str = Name


class ProjectFields(RequestModel):
    labels: list[str] | None = Field(default=None, max_length=50)
    domain: str | None = Field(default=None, max_length=253)
    webhook_url: str | None = Url
    logout_url: str | None = Url
    return_url: str | None = Url
    features: dict[str, Any] | None = None
    lock_settings: dict[str, bool] | None = None
    extra_data: dict[str, Any] | None = None
    is_default: bool | None = None
    limits: ProjectLimits | None = None
    webhook_format: WebhookFormat | None = Field(
        default=None, description="What webhook_url receives: Conclave events, or XRCLOUD room-join payloads."
    )


class ProjectCreate(ProjectFields):
    name: str = Name
    status: ProjectStatus = "active"
    api_key: str | None = Field(default=None, min_length=4, max_length=128, pattern=r"^[!-~]+$")
    secret_key: str | None = Field(default=None, min_length=8, max_length=256, pattern=r"^[!-~]+$")
    app_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")


class ProjectUpdate(ProjectFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)


class ProjectStatusUpdate(RequestModel):
    status: ProjectStatus


class CredentialRotate(RequestModel):
    grace_seconds: int = Field(
        default=0,
        ge=0,
        le=30 * 24 * 3600,
        description="How long the old secret keeps working after rotation (0 = revoked at once).",
    )


class CredentialOut(ResponseModel):
    key_id: str
    status: Literal["active", "expiring", "revoked"]
    created_at: Timestamp
    expires_at: Timestamp | None
    revoked_at: Timestamp | None


class IssuedCredentialOut(ResponseModel):
    """Returned once, when a secret is created: it is never shown again by the native API."""

    key_id: str
    secret: str


class OrganizationOut(ResponseModel):
    id: str
    name: str
    created_at: Timestamp
    updated_at: Timestamp


class OrganizationCreated(OrganizationOut):
    api_key: str
    secret: str


class ProjectOut(ResponseModel):
    id: str
    organization_id: str
    name: str
    status: ProjectStatus
    app_id: str
    is_default: bool
    labels: list[str]
    domain: str | None
    webhook_url: str | None
    logout_url: str | None
    return_url: str | None
    webhook_format: WebhookFormat
    features: dict[str, Any]
    lock_settings: dict[str, Any]
    extra_data: dict[str, Any]
    limits: dict[str, int | None]
    created_at: Timestamp
    updated_at: Timestamp


class ProjectCreated(ProjectOut):
    api_key: str
    secret_key: str

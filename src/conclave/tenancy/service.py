"""The only code that changes tenancy rows: organizations, projects, credentials, usage."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.crypto import SecretBox
from conclave.kit.errors import Conflict, Forbidden, NotFound, QuotaExceeded, Unauthorized
from conclave.kit.ids import new_app_id, new_key_id, new_secret
from conclave.kit.pagination import PageParams
from conclave.kit.read_cache import ReadCache, read_only_row, row_values
from conclave.kit.time import today, utcnow
from conclave.tenancy.models import LIMIT_NAMES, Credential, Organization, Project, usable_between
from conclave.tenancy.repository import TenancyRepository
from conclave.tenancy.schemas import ProjectCreate, ProjectFields

USAGE_SHARDS = 8
"""Rows a project's daily counters may spread over (``ProjectDailyUsage``); shard 0 is for limits."""


@dataclass(frozen=True)
class IssuedCredential:
    credential: Credential
    secret: str


@dataclass(frozen=True)
class ResolvedKey:
    """A usable credential found by its public key id, with its secret (for request signing)."""

    credential: Credential
    secret: str
    organization: Organization | None
    project: Project | None


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    secret: str


@dataclass(frozen=True)
class _ProjectKey:
    """What authenticating with one project secret needs, cached by the secret's digest."""

    key_id: str
    revoked_at: datetime | None
    expires_at: datetime | None
    project: Project  # read-only, shared by every request it authenticates (``read_only_row``)


@dataclass(frozen=True)
class _KeyWindow:
    """A project secret (decrypted) with the times it works between, cached per project."""

    key: SigningKey
    revoked_at: datetime | None
    expires_at: datetime | None


def credential_status(credential: Credential) -> Literal["active", "expiring", "revoked"]:
    now = utcnow()
    if not credential.is_usable(now):
        return "revoked"
    return "expiring" if credential.expires_at is not None else "active"


_TENANCY_TABLES = ("organizations", "projects", "credentials")


class TenancyService:
    def __init__(self, box: SecretBox, *, cache_ttl_seconds: float = 0.0) -> None:
        self.box = box
        self._project_keys: ReadCache[str, _ProjectKey] = ReadCache(
            _TENANCY_TABLES, ttl_seconds=cache_ttl_seconds
        )
        self._signing_keys: ReadCache[str, tuple[_KeyWindow, ...]] = ReadCache(
            _TENANCY_TABLES, ttl_seconds=cache_ttl_seconds
        )

    # -- credentials -------------------------------------------------------------------------

    async def _issue_credential(
        self,
        session: AsyncSession,
        *,
        prefix: str,
        organization_id: str | None = None,
        project_id: str | None = None,
        key_id: str | None = None,
        secret: str | None = None,
    ) -> IssuedCredential:
        repository = TenancyRepository(session)
        key_id = key_id or new_key_id(prefix)
        secret = secret or new_secret()
        digest = self.box.digest(secret)
        if await repository.credential_by_key_id(key_id) is not None:
            raise Conflict(f"API key {key_id!r} is already in use", code="api_key_taken")
        if await repository.credential_by_digest(digest) is not None:
            raise Conflict("this secret is already in use by another credential", code="secret_taken")
        credential = Credential(
            organization_id=organization_id,
            project_id=project_id,
            key_id=key_id,
            secret_digest=digest,
            secret_encrypted=self.box.encrypt(secret),
        )
        session.add(credential)
        await session.flush()
        return IssuedCredential(credential, secret)

    def reveal(self, credential: Credential) -> str:
        return self.box.decrypt(credential.secret_encrypted)

    async def list_credentials(
        self,
        session: AsyncSession,
        params: PageParams,
        *,
        organization_id: str | None = None,
        project_id: str | None = None,
    ) -> tuple[list[Credential], int]:
        """Revoked credentials stay listed (with their status), so the list grows with every rotation."""
        found = await TenancyRepository(session).credentials_page(
            params, organization_id=organization_id, project_id=project_id
        )
        if found is None:
            raise NotFound(
                f"credential {params.after!r} given as 'after' not found", code="credential_not_found"
            )
        return found

    async def create_credential(
        self, session: AsyncSession, *, organization_id: str | None = None, project_id: str | None = None
    ) -> IssuedCredential:
        prefix = "pk" if project_id else "ok"
        return await self._issue_credential(
            session, prefix=prefix, organization_id=organization_id, project_id=project_id
        )

    async def _owned_credential(
        self, session: AsyncSession, key_id: str, *, organization_id: str | None, project_id: str | None
    ) -> Credential:
        credential = await TenancyRepository(session).credential_by_key_id(key_id)
        owned = credential is not None and (
            (project_id is not None and credential.project_id == project_id)
            or (
                organization_id is not None
                and project_id is None
                and credential.organization_id == organization_id
            )
        )
        if credential is None or not owned:
            raise NotFound(f"credential {key_id!r} not found", code="credential_not_found")
        return credential

    async def rotate_credential(
        self,
        session: AsyncSession,
        key_id: str,
        *,
        grace_seconds: int,
        organization_id: str | None = None,
        project_id: str | None = None,
    ) -> IssuedCredential:
        """Issue a successor secret; the old one stops working at once or after a grace period."""
        old = await self._owned_credential(
            session, key_id, organization_id=organization_id, project_id=project_id
        )
        if not old.is_usable(utcnow()):
            raise Conflict(
                f"credential {key_id!r} is revoked and cannot be rotated", code="credential_revoked"
            )
        issued = await self.create_credential(
            session, organization_id=old.organization_id, project_id=old.project_id
        )
        now = utcnow()
        if grace_seconds:
            old.expires_at = now + timedelta(seconds=grace_seconds)
        else:
            old.revoked_at = now
        return issued

    async def revoke_credential(
        self,
        session: AsyncSession,
        key_id: str,
        *,
        organization_id: str | None = None,
        project_id: str | None = None,
    ) -> Credential:
        credential = await self._owned_credential(
            session, key_id, organization_id=organization_id, project_id=project_id
        )
        if credential.revoked_at is None:
            credential.revoked_at = utcnow()
        return credential

    async def _usable_by_secret(self, session: AsyncSession, secret: str) -> Credential | None:
        credential = await TenancyRepository(session).credential_by_digest(self.box.digest(secret))
        if credential is None or not credential.is_usable(utcnow()):
            return None
        return credential

    async def resolve_key_id(self, session: AsyncSession, key_id: str) -> ResolvedKey:
        """Find a usable credential by its public key id (Qriib's ``key`` header signs with it).

        Projects that are not active are refused like in ``authenticate_project``.
        """
        credential = await TenancyRepository(session).credential_by_key_id(key_id)
        if credential is None or not credential.is_usable(utcnow()):
            raise Unauthorized("invalid or missing API key", code="invalid_credentials")
        if credential.project_id is not None:
            project = await self.get_project(session, credential.project_id)
            if project.status != "active":
                raise Forbidden(
                    f"project is {project.status}; its credentials are not accepted", code="project_inactive"
                )
            return ResolvedKey(credential, self.reveal(credential), None, project)
        assert credential.organization_id is not None
        organization = await self.get_organization(session, credential.organization_id)
        return ResolvedKey(credential, self.reveal(credential), organization, None)

    # -- organizations -----------------------------------------------------------------------

    async def create_organization(
        self, session: AsyncSession, *, name: str, api_key: str | None = None, secret: str | None = None
    ) -> tuple[Organization, IssuedCredential]:
        organization = Organization(name=name)
        session.add(organization)
        await session.flush()
        issued = await self._issue_credential(
            session, prefix="ok", organization_id=organization.id, key_id=api_key, secret=secret
        )
        return organization, issued

    async def get_organization(self, session: AsyncSession, organization_id: str) -> Organization:
        organization = await TenancyRepository(session).get_organization(organization_id)
        if organization is None:
            raise NotFound(f"organization {organization_id!r} not found", code="organization_not_found")
        return organization

    async def list_organizations(
        self, session: AsyncSession, params: PageParams
    ) -> tuple[list[Organization], int]:
        return await TenancyRepository(session).list_organizations(params)

    async def rename_organization(
        self, session: AsyncSession, organization_id: str, name: str
    ) -> Organization:
        organization = await self.get_organization(session, organization_id)
        organization.name = name
        return organization

    async def delete_organization(self, session: AsyncSession, organization_id: str) -> None:
        await session.delete(await self.get_organization(session, organization_id))

    async def authenticate_organization(
        self, session: AsyncSession, secret: str, *, username: str | None = None
    ) -> Organization:
        credential = await self._usable_by_secret(session, secret)
        if credential is None or credential.organization_id is None:
            raise Unauthorized("invalid or revoked organization credentials", code="invalid_credentials")
        if username is not None and username not in (credential.organization_id, credential.key_id):
            raise Unauthorized("invalid or revoked organization credentials", code="invalid_credentials")
        return await self.get_organization(session, credential.organization_id)

    # -- projects ----------------------------------------------------------------------------

    async def create_project(
        self, session: AsyncSession, organization_id: str, data: ProjectCreate
    ) -> tuple[Project, IssuedCredential]:
        repository = TenancyRepository(session)
        await self.get_organization(session, organization_id)
        if await repository.project_name_taken(organization_id, data.name):
            raise Conflict(f"a project named {data.name!r} already exists", code="project_name_taken")
        app_id = data.app_id or new_app_id()
        if await repository.app_id_taken(app_id):
            raise Conflict(f"app id {app_id!r} is already in use", code="app_id_taken")
        project = Project(organization_id=organization_id, name=data.name, status=data.status, app_id=app_id)
        self._apply_fields(project, data)
        session.add(project)
        await session.flush()
        issued = await self._issue_credential(
            session, prefix="pk", project_id=project.id, key_id=data.api_key, secret=data.secret_key
        )
        return project, issued

    @staticmethod
    def _apply_fields(project: Project, data: ProjectFields) -> None:
        provided = data.model_fields_set
        for name in ("labels", "domain", "webhook_url", "logout_url", "return_url"):
            if name in provided:
                setattr(project, name, getattr(data, name) if name != "labels" else (data.labels or []))
        for name in ("features", "lock_settings", "extra_data"):
            if name in provided:
                setattr(project, name, getattr(data, name) or {})
        if "webhook_format" in provided and data.webhook_format is not None:
            project.webhook_format = data.webhook_format
        if "is_default" in provided and data.is_default is not None:
            project.is_default = data.is_default
        if "limits" in provided:
            limits = data.limits
            for name in LIMIT_NAMES:
                if limits is None:
                    setattr(project, name, None)
                elif name in limits.model_fields_set:
                    setattr(project, name, getattr(limits, name))

    async def get_project(
        self, session: AsyncSession, project_id: str, *, organization_id: str | None = None
    ) -> Project:
        project = await TenancyRepository(session).get_project(project_id, organization_id=organization_id)
        if project is None:
            raise NotFound(f"project {project_id!r} not found", code="project_not_found")
        return project

    async def list_projects(
        self, session: AsyncSession, organization_id: str, params: PageParams
    ) -> tuple[list[Project], int]:
        return await TenancyRepository(session).list_projects(organization_id, params)

    async def update_project(
        self, session: AsyncSession, project: Project, data: ProjectFields, *, name: str | None = None
    ) -> Project:
        if name is not None and name != project.name:
            if await TenancyRepository(session).project_name_taken(
                project.organization_id, name, except_id=project.id
            ):
                raise Conflict(f"a project named {name!r} already exists", code="project_name_taken")
            project.name = name
        self._apply_fields(project, data)
        return project

    async def set_project_status(self, project: Project, status: str) -> Project:
        project.status = status
        return project

    async def delete_project(self, session: AsyncSession, project: Project) -> None:
        await session.delete(project)

    async def set_room_defaults(self, project: Project, defaults: dict[str, Any]) -> Project:
        project.room_defaults = defaults
        return project

    async def authenticate_project(
        self, session: AsyncSession, secret: str, *, username: str | None = None
    ) -> Project:
        """Resolve a project from its secret; inactive and suspended projects are refused (403).

        This runs on every native request: the credential joined to its project is read in one
        query, then served from a cache (``kit.read_cache``) until a tenancy row changes. The
        project comes back detached and read-only, one instance shared by every request of the
        cache entry (``kit.read_cache.read_only_row``); ``kit.read_cache.attached`` gives a copy
        to change in the session.
        """
        digest = self.box.digest(secret)

        async def load() -> _ProjectKey:
            row = await TenancyRepository(session).project_credential_by_digest(digest)
            if row is None:
                raise Unauthorized("invalid or revoked API credentials", code="invalid_credentials")
            credential, project = row
            return _ProjectKey(
                credential.key_id,
                credential.revoked_at,
                credential.expires_at,
                read_only_row(Project, row_values(project)),
            )

        found = await self._project_keys.get_or_load(digest, load)
        if not usable_between(found.revoked_at, found.expires_at, utcnow()):
            raise Unauthorized("invalid or revoked API credentials", code="invalid_credentials")
        project = found.project
        if username is not None and username not in (project.id, found.key_id):
            raise Unauthorized("invalid or revoked API credentials", code="invalid_credentials")
        if project.status != "active":
            raise Forbidden(
                f"project is {project.status}; its credentials are not accepted", code="project_inactive"
            )
        return project

    async def signing_keys(self, session: AsyncSession, project_id: str) -> list[SigningKey]:
        """The project's usable secrets, newest first: the first signs, all verify."""

        async def load() -> tuple[_KeyWindow, ...]:
            credentials = await TenancyRepository(session).credentials_of_project(project_id)
            loaded_at = utcnow()
            return tuple(
                _KeyWindow(SigningKey(c.key_id, self.reveal(c)), c.revoked_at, c.expires_at)
                for c in reversed(credentials)
                if c.is_usable(loaded_at)
            )

        windows = await self._signing_keys.get_or_load(project_id, load)
        now = utcnow()
        return [w.key for w in windows if usable_between(w.revoked_at, w.expires_at, now)]

    # -- limits ------------------------------------------------------------------------------

    async def count_api_call(self, session: AsyncSession, project: Project) -> None:
        """Count a call against ``max_api_calls_per_day``; only projects with a quota pay the write."""
        limit = project.max_api_calls_per_day
        if limit is None:
            return
        # API calls are only ever counted on shard 0, so its count is the day's.
        counts = await TenancyRepository(session).add_usage(project.id, today(), shard=0, api_calls=1)
        used = counts.api_calls
        if used > limit:
            raise QuotaExceeded(
                f"daily API call quota of {limit} reached; it resets at 00:00 UTC",
                code="api_quota_exceeded",
                details={"limit": limit, "used": used},
            )

    async def count_room_created(
        self, session: AsyncSession, project: Project, *, serialise: bool = False
    ) -> None:
        """Count a room creation.

        With a daily limit, or ``serialise``, it counts on shard 0 of the day, whose row then stays
        locked until commit: the project's concurrent creations take turns from here, so the limit
        (or the caller's own count) is exact. Otherwise it counts on a random other shard, and
        concurrent creations do not wait for each other.
        """
        limit = project.max_daily_rooms
        repository = TenancyRepository(session)
        if limit is None and not serialise:
            shard = random.randrange(1, USAGE_SHARDS)
            await repository.add_usage(project.id, today(), shard=shard, rooms_created=1)
            return
        await repository.add_usage(project.id, today(), shard=0, rooms_created=1)
        if limit is not None and (await repository.usage(project.id, today())).rooms_created > limit:
            raise Forbidden(
                f"the project may create at most {limit} rooms a day",
                code="max_daily_rooms_reached",
                details={"limit": limit},
            )

    async def usage_today(self, session: AsyncSession, project_id: str) -> dict[str, int]:
        usage = await TenancyRepository(session).usage(project_id, today())
        return {"api_calls": usage.api_calls, "rooms_created": usage.rooms_created}

    async def projects_by_label(
        self, session: AsyncSession, organization_id: str, label: str | None
    ) -> list[Project]:
        """The organization's projects, oldest first; with ``label``, only those carrying it (XRCLOUD)."""
        return await TenancyRepository(session).projects_with_label(organization_id, label)

    async def newest_project_keys(
        self, session: AsyncSession, project_ids: list[str]
    ) -> dict[str, SigningKey]:
        """Each project's newest usable credential with its secret (Qriib shows api_key and secret_key)."""
        now = utcnow()
        keys: dict[str, SigningKey] = {}
        for credential in await TenancyRepository(session).credentials_of_projects(project_ids):
            if credential.project_id is not None and credential.is_usable(now):
                keys[credential.project_id] = SigningKey(credential.key_id, self.reveal(credential))
        return keys

"""One settings class for the whole server, read from ``CONCLAVE_*`` environment variables."""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Server configuration.

    ``mode=embedded`` (the default of ``make run``) may generate its own secrets into the data
    dir and migrates the database at start; ``mode=production`` refuses to start without
    explicit secrets and an already-migrated database, so no generated default reaches production.
    """

    model_config = SettingsConfigDict(env_prefix="CONCLAVE_", extra="ignore")

    mode: Literal["embedded", "production"] = "embedded"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("conclave-data")
    database_url: str | None = None
    public_url: str | None = None
    master_key: SecretStr | None = None
    admin_token: SecretStr | None = None
    access_token_ttl_seconds: int = 24 * 3600
    # How long a cached credential, project or room may be trusted without a write from this
    # process (see kit.read_cache); bounds what another process's changes take to be seen. 0 = off.
    cache_ttl_seconds: float = Field(default=5.0, ge=0)
    auto_migrate: bool | None = None
    log_level: str = "info"

    # Media plane (Janus).
    janus_urls: str | None = None
    janus_admin_secret: SecretStr | None = None
    janus_admin_port: int = 7188
    janus_room_secret: SecretStr | None = None
    local_janus: bool = True
    janus_netns: bool = False

    # Realtime presence.
    rtc_resume_grace_seconds: float = Field(default=20.0, gt=0)
    room_empty_timeout_seconds: float = Field(default=60.0, ge=0)
    session_heartbeat_seconds: float = Field(default=15.0, gt=0)

    # Durable jobs (webhook delivery, later recording processing).
    in_process_worker: bool | None = None
    worker_poll_interval_seconds: float = Field(default=1.0, gt=0)
    worker_concurrency: int = Field(default=32, ge=1)
    job_lease_seconds: float = Field(default=60.0, gt=0)
    job_max_attempts: int = Field(default=10, ge=1)
    job_backoff_base_seconds: float = Field(default=1.0, gt=0)
    job_backoff_cap_seconds: float = Field(default=300.0, gt=0)

    # Webhook delivery.
    webhook_retry_period_seconds: float = Field(default=24 * 3600, gt=0)
    webhook_backoff_base_seconds: float = Field(default=5.0, gt=0)
    webhook_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhooks_allow_private: bool | None = None
    webhook_disable_after_failures: int = Field(default=20, ge=0)
    webhook_response_body_limit: int = Field(default=2048, ge=0)

    # Recordings (docs/recordings.md): raw Janus captures stay local to the media node's host;
    # finished files go to ``storage_url`` (default: a folder under the data dir).
    recordings_raw_dir: Path | None = None
    storage_url: str | None = None
    storage_endpoint_url: str | None = None
    storage_region: str | None = None
    storage_access_key_id: str | None = None
    storage_secret_access_key: SecretStr | None = None
    recording_link_ttl_seconds: int = Field(default=3600, gt=0)
    recording_process_timeout_seconds: float = Field(default=3 * 3600.0, gt=0)
    recording_retention_sweep_seconds: float = Field(default=3600.0, gt=0)
    recording_video_preset: str = "veryfast"

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @property
    def embedded(self) -> bool:
        return self.mode == "embedded"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'conclave.db').resolve()}"

    @property
    def resolved_public_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def resolved_recordings_raw_dir(self) -> Path:
        return (self.recordings_raw_dir or self.data_dir / "recordings" / "raw").resolve()

    @property
    def resolved_storage_url(self) -> str:
        return self.storage_url or (self.data_dir / "recordings" / "files").resolve().as_uri()

    @property
    def should_auto_migrate(self) -> bool:
        return self.embedded if self.auto_migrate is None else self.auto_migrate

    @property
    def runs_in_process_worker(self) -> bool:
        """Embedded servers deliver their own jobs; production runs ``conclave worker`` processes."""
        return self.embedded if self.in_process_worker is None else self.in_process_worker

    @property
    def private_webhooks_allowed(self) -> bool:
        """Loopback and private receivers are normal on a developer machine and an SSRF risk in production."""
        return self.embedded if self.webhooks_allow_private is None else self.webhooks_allow_private


@dataclass(frozen=True)
class ServerSecrets:
    master_key: str
    admin_token: str


class ConfigurationError(RuntimeError):
    """Raised when the server cannot start with the configuration it was given."""


def _read_or_generate(path: Path, label: str, announce: bool) -> str:
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value + "\n")
    path.chmod(0o600)
    if announce:
        # Printed exactly once, when generated: afterwards it lives only in the data dir.
        print(f"conclave: generated {label}: {value} (saved in {path})", file=sys.stderr)
    return value


def resolve_secrets(settings: Settings) -> ServerSecrets:
    """Return the master key and admin token, generating them in embedded mode when unset."""
    if not settings.embedded and (settings.master_key is None or settings.admin_token is None):
        raise ConfigurationError(
            "production mode needs CONCLAVE_MASTER_KEY and CONCLAVE_ADMIN_TOKEN to be set explicitly"
        )
    master = (
        settings.master_key.get_secret_value()
        if settings.master_key
        else _read_or_generate(settings.data_dir / "master.key", "master key", announce=False)
    )
    admin = (
        settings.admin_token.get_secret_value()
        if settings.admin_token
        else _read_or_generate(settings.data_dir / "admin.token", "admin token", announce=True)
    )
    if len(master) < 16:
        raise ConfigurationError("CONCLAVE_MASTER_KEY must be at least 16 characters long")
    return ServerSecrets(master_key=master, admin_token=admin)

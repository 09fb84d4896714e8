"""One settings class for the whole server, read from ``CONCLAVE_*`` environment variables."""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, field_validator
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
    auto_migrate: bool | None = None
    log_level: str = "info"

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
    def should_auto_migrate(self) -> bool:
        return self.embedded if self.auto_migrate is None else self.auto_migrate


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

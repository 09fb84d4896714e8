"""Server-level behaviour: health, OpenAPI, configuration and schema checks at start."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from conclave.app import create_app
from conclave.config import ConfigurationError, Settings, resolve_secrets
from tests.conftest import make_settings


async def test_health_and_docs(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok", "database": "ok"}
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/rooms/{room}/token" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200


async def test_unknown_route_uses_error_body(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def _start(app: FastAPI) -> None:
    async with app.router.lifespan_context(app):
        pass


async def test_production_refuses_unmigrated_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    app = create_app(make_settings(url, tmp_path, mode="production"))
    with pytest.raises(ConfigurationError, match="conclave migrate"):
        await _start(app)
    await app.state.engine.dispose()


async def test_embedded_mode_migrates_at_start(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    app = create_app(make_settings(url, tmp_path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/readyz")).status_code == 200
            assert (
                await client.get(
                    "/api/v1/admin/organizations", headers={"Authorization": "Bearer test-admin-token"}
                )
            ).json()["total_count"] == 0


def test_secrets_generated_once_in_embedded_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(data_dir=tmp_path)
    first = resolve_secrets(settings)
    assert first.admin_token in capsys.readouterr().err
    second = resolve_secrets(settings)
    assert second == first
    assert capsys.readouterr().err == ""
    assert (tmp_path / "admin.token").read_text().strip() == first.admin_token


def test_production_requires_explicit_secrets(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        resolve_secrets(Settings(data_dir=tmp_path, mode="production"))
    with pytest.raises(ConfigurationError):
        resolve_secrets(Settings(data_dir=tmp_path, master_key="short", admin_token="x"))


def test_environment_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONCLAVE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CONCLAVE_PORT", "9100")
    monkeypatch.setenv("CONCLAVE_PUBLIC_URL", "https://meet.example.com/")
    settings = Settings()
    assert settings.port == 9100
    assert settings.resolved_public_url == "https://meet.example.com"
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'conclave.db'}"

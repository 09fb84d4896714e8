"""``create_app(settings)``: wires the services and mounts the API surfaces. No global state."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from conclave import __version__
from conclave.access import endpoints as access_endpoints
from conclave.access.service import AccessService
from conclave.access.verifier import TokenVerifier
from conclave.config import ConfigurationError, Settings, resolve_secrets
from conclave.kit import exception_handlers
from conclave.kit.crypto import SecretBox
from conclave.kit.db import create_engine, create_sessionmaker, is_sqlite
from conclave.kit.events import InProcessEventBus
from conclave.kit.migrate import current_revision, head_revision, upgrade
from conclave.rooms import endpoints as room_endpoints
from conclave.rooms.service import RoomService
from conclave.tenancy import endpoints as tenancy_endpoints
from conclave.tenancy.service import TenancyService

log = logging.getLogger(__name__)


async def ensure_schema(settings: Settings, engine_url: str, current: str | None) -> None:
    """Migrate in embedded mode; elsewhere refuse to serve an out-of-date schema."""
    head = head_revision(engine_url)
    if current == head:
        return
    if settings.should_auto_migrate:
        await asyncio.to_thread(upgrade, engine_url)
        return
    raise ConfigurationError(
        f"the database is at schema revision {current or 'none'} but this server needs {head}: "
        "run `conclave migrate` first"
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    server_secrets = resolve_secrets(settings)
    database_url = settings.resolved_database_url
    if is_sqlite(database_url):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url)
    bus = InProcessEventBus()
    tenancy = TenancyService(SecretBox(server_secrets.master_key))
    access = AccessService(tenancy, settings.resolved_public_url, settings.access_token_ttl_seconds)
    rooms = RoomService(tenancy, access)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_schema(settings, database_url, await current_revision(engine))
        yield
        await engine.dispose()

    app = FastAPI(
        title="Conclave",
        version=__version__,
        description="Self-hosted video platform: rooms, access tokens and real meetings, with a native "
        "API in Digital Samba's conventions and drop-in compatible vendor surfaces.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.secrets = server_secrets
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.bus = bus
    app.state.tenancy = tenancy
    app.state.access = access
    app.state.rooms = rooms
    app.state.verifier = TokenVerifier(tenancy, access)

    exception_handlers.install(app)
    app.include_router(tenancy_endpoints.admin_router)
    app.include_router(tenancy_endpoints.projects_router)
    app.include_router(access_endpoints.router)
    app.include_router(room_endpoints.router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers. Also the constant baseline of the API benchmark."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the database answers a query."""
        try:
            async with request.app.state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("readiness check failed: %s", exc)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return app

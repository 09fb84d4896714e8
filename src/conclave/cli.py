"""``conclave serve | migrate | worker | admin … | webhooks …``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from pydantic import BaseModel, ValidationError

from conclave.config import ConfigurationError, Settings, resolve_secrets
from conclave.kit.crypto import SecretBox
from conclave.kit.db import create_engine, create_sessionmaker, is_sqlite
from conclave.kit.errors import ConclaveError
from conclave.kit.events import InProcessEventBus
from conclave.kit.logs import RedactQuerySecrets
from conclave.kit.migrate import upgrade
from conclave.kit.transaction import transaction
from conclave.tenancy.schemas import CredentialImport, ProjectCreate
from conclave.tenancy.service import TenancyService
from conclave.webhooks.signing import DEFAULT_TOLERANCE_SECONDS, verify

app = typer.Typer(help="Conclave: a self-hosted video platform.", no_args_is_help=True)
admin = typer.Typer(help="Server administration.", no_args_is_help=True)
app.add_typer(admin, name="admin")
webhooks = typer.Typer(help="Webhook helpers for receivers.", no_args_is_help=True)
app.add_typer(webhooks, name="webhooks")

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def _fail(message: str) -> None:
    typer.echo(f"conclave: {message}", err=True)
    raise typer.Exit(code=1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Overrides CONCLAVE_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides CONCLAVE_PORT.")] = None,
) -> None:
    """Start the server (embedded mode migrates the database first)."""
    from conclave.app import create_app

    overrides: dict[str, Any] = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = Settings(**overrides)
    try:
        application = create_app(settings, settle_heap_on_start=True)
    except ConfigurationError as exc:
        _fail(str(exc))
    serve_application(application, settings)


def serve_application(application: Any, settings: Settings) -> None:
    """Run ``application`` under one uvicorn worker as ``serve`` does (benchmarks reuse it)."""
    where = f"http://{settings.host}:{settings.port}"
    typer.echo(f"conclave: serving on {where} (public URL {settings.resolved_public_url})")
    config = uvicorn.Config(application, host=settings.host, port=settings.port, log_level=settings.log_level)
    # uvicorn configures its loggers in Config(); the filter goes on after that.
    logging.getLogger("uvicorn.access").addFilter(RedactQuerySecrets())
    uvicorn.Server(config).run()


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="Overrides CONCLAVE_WORKER_CONCURRENCY.")] = None,
) -> None:
    """Run durable jobs (webhook deliveries, …) until SIGINT/SIGTERM; start as many as you like.

    Several workers share the queue safely on PostgreSQL; the database must already be migrated
    (embedded mode migrates it first).
    """
    from conclave.app import build_runtime, ensure_schema
    from conclave.kit.heap import settle_heap
    from conclave.kit.migrate import current_revisions

    overrides: dict[str, Any] = {"worker_concurrency": concurrency} if concurrency else {}
    settings = Settings(**overrides)
    try:
        runtime = build_runtime(settings)
    except ConfigurationError as exc:
        _fail(str(exc))
        raise

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            await ensure_schema(settings, runtime.database_url, await current_revisions(runtime.engine))
            await runtime.runner.start()
            settle_heap()
            typer.echo(f"conclave: worker {runtime.runner.worker_id} running jobs")
            await stop.wait()
            typer.echo("conclave: worker stopping")
            await runtime.runner.stop()
        finally:
            await runtime.engine.dispose()

    try:
        asyncio.run(main())
    except ConfigurationError as exc:
        _fail(str(exc))


@webhooks.command("verify-signature")
def verify_signature(
    secret: Annotated[str, typer.Option(help="The webhook's secret.")],
    timestamp: Annotated[str, typer.Option(help="The X-Conclave-Timestamp header.")],
    signature: Annotated[str, typer.Option(help="The X-Signature header.")],
    body_file: Annotated[
        Path | None, typer.Option("--body-file", help="The raw request body; stdin when omitted.")
    ] = None,
    tolerance: Annotated[
        int, typer.Option(help="Max age in seconds of the timestamp; 0 disables the check.")
    ] = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Check a received webhook: exits 0 and prints "valid", or exits 1 saying why not."""
    try:
        body = body_file.read_bytes() if body_file is not None else sys.stdin.buffer.read()
    except OSError as exc:
        _fail(f"cannot read the body: {exc}")
        raise
    if not verify(secret, timestamp, body, signature, tolerance_seconds=None):
        _fail("invalid: the signature does not match this secret, timestamp and body")
    if tolerance > 0:
        with contextlib.suppress(ValueError):
            age = abs(time.time() - int(timestamp))
            if age > tolerance:
                _fail(f"invalid: the timestamp is {age:.0f} s away from now (tolerance {tolerance} s)")
    typer.echo("valid")


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    settings = Settings()
    if is_sqlite(settings.resolved_database_url):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    typer.echo("conclave: database is up to date")


def _run_admin(work: Callable[[TenancyService, Any], Awaitable[T]]) -> T:
    """Run one unit of work against the configured database, migrating it first if embedded."""
    settings = Settings()
    try:
        server_secrets = resolve_secrets(settings)
    except ConfigurationError as exc:
        _fail(str(exc))
    url = settings.resolved_database_url
    if is_sqlite(url):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.should_auto_migrate:
        upgrade(url)

    async def main() -> T:
        engine = create_engine(url)
        try:
            async with transaction(create_sessionmaker(engine), InProcessEventBus()) as session:
                return await work(TenancyService(SecretBox(server_secrets.master_key)), session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except ConclaveError as exc:
        _fail(exc.message)
        raise


def _validated(model: type[M], values: dict[str, Any]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        _fail(f"invalid option: {problems}")
        raise


def _emit(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result))
    else:
        for key, value in result.items():
            typer.echo(f"{key}: {value}")


@admin.command("create-organization")
def create_organization(
    name: Annotated[str, typer.Option(help="Organization name.")],
    api_key: Annotated[str | None, typer.Option(help="Import an existing API key.")] = None,
    secret: Annotated[str | None, typer.Option(help="Import an existing secret.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an organization; prints its id, api_key and secret."""
    _validated(CredentialImport, {"api_key": api_key, "secret": secret})

    async def work(tenancy: TenancyService, session: Any) -> dict[str, Any]:
        organization, issued = await tenancy.create_organization(
            session, name=name, api_key=api_key, secret=secret
        )
        return {"id": organization.id, "api_key": issued.credential.key_id, "secret": issued.secret}

    _emit(_run_admin(work), as_json)


@admin.command("create-project")
def create_project(
    organization: Annotated[str, typer.Option(help="Organization id.")],
    name: Annotated[str, typer.Option(help="Project name.")],
    api_key: Annotated[str | None, typer.Option(help="Import an existing API key.")] = None,
    secret_key: Annotated[
        str | None, typer.Option("--secret-key", "--secret", help="Import an existing secret.")
    ] = None,
    app_id: Annotated[str | None, typer.Option(help="Import an existing 32-hex app id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a project in an organization; prints its id, keys and app_id."""
    imported = {"api_key": api_key, "secret_key": secret_key, "app_id": app_id}
    data = _validated(ProjectCreate, {"name": name, **{k: v for k, v in imported.items() if v}})

    async def work(tenancy: TenancyService, session: Any) -> dict[str, Any]:
        project, issued = await tenancy.create_project(session, organization, data)
        return {
            "id": project.id,
            "organization_id": project.organization_id,
            "api_key": issued.credential.key_id,
            "secret_key": issued.secret,
            "app_id": project.app_id,
        }

    _emit(_run_admin(work), as_json)


@app.command()
def bot(
    token: Annotated[str | None, typer.Option(help="Access token (POST /api/v1/rooms/{room}/token).")] = None,
    room: Annotated[str | None, typer.Option(help="A public room (id or friendly_url), no token.")] = None,
    server: Annotated[str, typer.Option(help="Conclave base URL.")] = "http://127.0.0.1:8000",
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    publish: Annotated[bool, typer.Option("--publish", help="Publish synthetic audio and video.")] = False,
    media_file: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="With --publish: send this file instead.")
    ] = None,
    seconds: Annotated[float, typer.Option(min=0, help="How long to stay in the room.")] = 10.0,
    ice_address: Annotated[
        list[str] | None,
        typer.Option(
            "--ice-address",
            help="Gather ICE candidates only on this local address (repeatable); 'auto' asks the server.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Join as a headless participant, optionally publish, stay, leave, and report the frames received.

    Exit codes: 0 done, 1 connection or other error, 3 admission refused, 4 publishing refused.
    """
    if (token is None) == (room is None):
        _fail("give exactly one of --token or --room")
    try:
        from conclave.sdk.bot import BotFailure, run_bot
    except ImportError as exc:
        _fail(f"the bot needs aiortc, av and numpy (pip install 'conclave[dev]'): {exc}")
        raise
    options: dict[str, Any] = {"token": token, "room": room, "name": name, "publish": publish}
    try:
        report = asyncio.run(
            run_bot(
                server=server, seconds=seconds, ice_addresses=ice_address, media_file=media_file, **options
            )
        )
    except BotFailure as failure:
        if as_json:
            typer.echo(json.dumps(failure.as_dict()))
        typer.echo(f"conclave: bot: {failure}", err=True)
        raise typer.Exit(code=failure.exit_code) from None
    _emit(report, as_json)


def main() -> None:
    try:
        app()
    except ConfigurationError as exc:
        print(f"conclave: {exc}", file=sys.stderr)
        sys.exit(1)

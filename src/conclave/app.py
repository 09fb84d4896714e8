"""``create_app(settings)``: wires the services and mounts the API surfaces. No global state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from conclave import __version__
from conclave.access import endpoints as access_endpoints
from conclave.access.service import AccessService
from conclave.access.verifier import TokenVerifier
from conclave.chat import endpoints as chat_endpoints
from conclave.chat.service import ChatService
from conclave.compat.videsk import endpoints as videsk_endpoints
from conclave.compat.xrcloud import endpoints as xrcloud_endpoints
from conclave.compat.xrcloud import webhooks as xrcloud_webhooks
from conclave.config import ConfigurationError, ServerSecrets, Settings, resolve_secrets
from conclave.events import endpoints as event_endpoints
from conclave.events.service import EventLogService
from conclave.kit import exception_handlers
from conclave.kit.crypto import SecretBox
from conclave.kit.db import create_engine, create_sessionmaker, is_sqlite
from conclave.kit.events import InProcessEventBus
from conclave.kit.group_commit import GroupCommitter
from conclave.kit.heap import settle_heap
from conclave.kit.ids import new_id
from conclave.kit.jobs import JobQueue, JobRunner
from conclave.kit.migrate import current_revisions, head_revisions, upgrade
from conclave.kit.route_index import index_included_routers, serve_first
from conclave.libraries import endpoints as library_endpoints
from conclave.libraries.service import LibraryService
from conclave.media.nodes import MediaNodes
from conclave.media.setup import MediaInfo, start_media
from conclave.polls import endpoints as poll_endpoints
from conclave.polls.service import PollService
from conclave.qa import endpoints as qa_endpoints
from conclave.qa.service import QaService
from conclave.quizzes import endpoints as quiz_endpoints
from conclave.quizzes import tasks as quiz_tasks
from conclave.quizzes.service import QuizService
from conclave.realtime import endpoints as realtime_endpoints
from conclave.realtime.service import Realtime
from conclave.recordings import endpoints as recording_endpoints
from conclave.recordings import tasks as recording_tasks
from conclave.recordings.service import RecordingService, RecordingSettings, link_key
from conclave.recordings.storage import storage_from_settings
from conclave.retention import endpoints as retention_endpoints
from conclave.retention.service import RetentionService
from conclave.rooms import endpoints as room_endpoints
from conclave.rooms.service import RoomService
from conclave.scenes import endpoints as scene_endpoints
from conclave.scenes.service import SceneService
from conclave.sessions import endpoints as session_endpoints
from conclave.sessions.service import SessionService
from conclave.statistics import endpoints as statistics_endpoints
from conclave.statistics.service import StatisticsService
from conclave.tenancy import endpoints as tenancy_endpoints
from conclave.tenancy.service import TenancyService
from conclave.transcripts import endpoints as transcript_endpoints
from conclave.transcripts import tasks as transcript_tasks
from conclave.transcripts.service import TranscriptService
from conclave.webhooks import endpoints as webhook_endpoints
from conclave.webhooks import tasks as webhook_tasks
from conclave.webhooks.sender import WebhookSender
from conclave.webhooks.service import DeliveryPolicy, WebhookService

log = logging.getLogger(__name__)

GROUP_COMMIT_PG_WRITERS = 4
"""Batches of issued-token rows written at once on PostgreSQL (``kit.group_commit``)."""


async def ensure_schema(settings: Settings, engine_url: str, current: frozenset[str]) -> None:
    """Migrate in embedded mode; elsewhere refuse to serve an out-of-date schema."""
    heads = head_revisions(engine_url)
    if current == heads:
        return
    if settings.should_auto_migrate:
        await asyncio.to_thread(upgrade, engine_url)
        return
    raise ConfigurationError(
        f"the database is at schema revision {', '.join(sorted(current)) or 'none'} but this server needs "
        f"{', '.join(sorted(heads))}: run `conclave migrate` first"
    )


@dataclass(frozen=True)
class Runtime:
    """Everything a process needs, built once from settings and handed out (no global state)."""

    settings: Settings
    secrets: ServerSecrets
    database_url: str
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: InProcessEventBus
    tenancy: TenancyService
    access: AccessService
    rooms: RoomService
    events: EventLogService
    webhooks: WebhookService
    jobs: JobQueue
    runner: JobRunner
    scenes: SceneService
    sessions: SessionService
    chat: ChatService
    nodes: MediaNodes
    realtime: Realtime
    recordings: RecordingService
    qa: QaService
    polls: PollService
    quizzes: QuizService
    transcripts: TranscriptService
    libraries: LibraryService
    retention: RetentionService


def build_runtime(settings: Settings) -> Runtime:
    """Wire services, the event log and webhook outbox (bus hooks), and the job runner.

    Used by ``create_app`` (the server, which may run the runner in-process) and by
    ``conclave worker`` (which only runs the runner).
    """
    server_secrets = resolve_secrets(settings)
    database_url = settings.resolved_database_url
    if is_sqlite(database_url):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url)
    sessionmaker = create_sessionmaker(engine)
    bus = InProcessEventBus()
    box = SecretBox(server_secrets.master_key)
    tenancy = TenancyService(box, cache_ttl_seconds=settings.cache_ttl_seconds)
    token_rows = GroupCommitter(engine, max_writers=1 if is_sqlite(database_url) else GROUP_COMMIT_PG_WRITERS)
    access = AccessService(
        tenancy, settings.resolved_public_url, settings.access_token_ttl_seconds, token_rows
    )
    scenes = SceneService(tenancy, settings.resolved_public_url)
    rooms = RoomService(tenancy, access, scenes, cache_ttl_seconds=settings.cache_ttl_seconds)
    events = EventLogService(rooms)
    jobs = JobQueue(max_attempts=settings.job_max_attempts)
    webhooks = WebhookService(
        box,
        jobs,
        DeliveryPolicy(
            retry_period=timedelta(seconds=settings.webhook_retry_period_seconds),
            backoff_base=settings.webhook_backoff_base_seconds,
            backoff_cap=settings.webhook_backoff_cap_seconds,
            # A delivery's lease outlives its request, so a live worker never loses it mid-call.
            lease=timedelta(seconds=max(settings.job_lease_seconds, settings.webhook_timeout_seconds + 5)),
            disable_after_failures=settings.webhook_disable_after_failures,
            allow_private=settings.private_webhooks_allowed,
        ),
        cache_ttl_seconds=settings.cache_ttl_seconds,
    )
    # Order matters only for readability: both write in the committing transaction.
    bus.subscribe_in_transaction(events.record)
    bus.subscribe_in_transaction(webhooks.on_events)
    webhooks.register_format("xrcloud", xrcloud_webhooks.room_join_payload)
    sender = WebhookSender(
        timeout=settings.webhook_timeout_seconds,
        allow_private=settings.private_webhooks_allowed,
        body_limit=settings.webhook_response_body_limit,
    )
    webhook_tasks.register(jobs, webhooks, sessionmaker, bus, sender)
    runner = JobRunner(
        jobs,
        sessionmaker,
        concurrency=settings.worker_concurrency,
        poll_interval=settings.worker_poll_interval_seconds,
        lease_seconds=settings.job_lease_seconds,
        backoff_base=settings.job_backoff_base_seconds,
        backoff_cap=settings.job_backoff_cap_seconds,
    )
    verifier = TokenVerifier(tenancy, access)
    sessions = SessionService(tenancy, rooms, access, verifier, instance_id=new_id())
    nodes = MediaNodes()
    chat = ChatService(rooms, sessions)
    realtime = Realtime(
        sessionmaker,
        bus,
        sessions,
        rooms,
        access,
        nodes,
        chat,
        events,
        grace_seconds=settings.rtc_resume_grace_seconds,
        default_empty_timeout=settings.room_empty_timeout_seconds,
        heartbeat_seconds=settings.session_heartbeat_seconds,
    )
    # In-meeting content: each domain registers its realtime messages and its live fan-out.
    qa = QaService(rooms, sessions)
    qa_endpoints.register_live(realtime, qa, sessionmaker, bus)
    polls = PollService(rooms, sessions)
    poll_endpoints.register_live(realtime, polls, sessionmaker, bus)
    quizzes = QuizService(rooms, sessions, jobs)
    quiz_endpoints.register_live(realtime, quizzes, sessionmaker, bus)
    quiz_tasks.register(jobs, quizzes, sessionmaker, bus)
    transcripts = TranscriptService(rooms, sessions, jobs)
    transcript_endpoints.register_live(realtime, transcripts, sessionmaker, bus)
    transcript_tasks.register(jobs, transcripts, sessionmaker, bus)
    libraries = LibraryService(
        rooms,
        sessions,
        chat,
        data_dir=settings.data_dir,
        master_key=server_secrets.master_key,
        public_url=settings.resolved_public_url,
    )
    library_endpoints.register_live(realtime, libraries, sessionmaker, bus)
    recordings = RecordingService(
        sessionmaker,
        bus,
        jobs,
        storage_from_settings(settings),
        tenancy,
        rooms,
        sessions,
        realtime,
        nodes,
        RecordingSettings(
            raw_root=settings.resolved_recordings_raw_dir,
            work_root=(settings.data_dir / "recordings" / "work").resolve(),
            public_url=settings.resolved_public_url,
            link_ttl_seconds=settings.recording_link_ttl_seconds,
            video_preset=settings.recording_video_preset,
            process_timeout=settings.recording_process_timeout_seconds,
            sweep_interval=settings.recording_retention_sweep_seconds,
        ),
        signing_key=link_key(server_secrets.master_key),
    )
    recording_tasks.register(jobs, recordings)
    retention = RetentionService(
        rooms=rooms,
        sessions=sessions,
        chat=chat,
        qa=qa,
        polls=polls,
        quizzes=quizzes,
        transcripts=transcripts,
        libraries=libraries,
        recordings=recordings,
    )
    return Runtime(
        recordings=recordings,
        qa=qa,
        polls=polls,
        quizzes=quizzes,
        transcripts=transcripts,
        libraries=libraries,
        retention=retention,
        sessions=sessions,
        chat=chat,
        nodes=nodes,
        realtime=realtime,
        settings=settings,
        secrets=server_secrets,
        database_url=database_url,
        engine=engine,
        sessionmaker=sessionmaker,
        bus=bus,
        tenancy=tenancy,
        access=access,
        rooms=rooms,
        events=events,
        webhooks=webhooks,
        jobs=jobs,
        runner=runner,
        scenes=scenes,
    )


def create_app(settings: Settings | None = None, *, settle_heap_on_start: bool = False) -> FastAPI:
    """``settle_heap_on_start``: for the ``serve`` process (see ``kit.heap.settle_heap``)."""
    settings = settings or Settings()
    runtime = build_runtime(settings)
    engine = runtime.engine

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_schema(settings, runtime.database_url, await current_revisions(engine))
        media = contextlib.AsyncExitStack()
        app.state.media_info = await start_media(settings, runtime.nodes, media)
        # One instance in embedded mode: every live session at start-up was left by a crash.
        stale_after = None if settings.embedded else timedelta(seconds=3 * settings.session_heartbeat_seconds)
        await runtime.realtime.start(stale_after=stale_after)
        if settings.runs_in_process_worker:
            await runtime.runner.start()
        if settle_heap_on_start:
            settle_heap()
        try:
            yield
        finally:
            await runtime.runner.stop()
            await runtime.realtime.stop()
            await media.aclose()
            await runtime.access.group_commit.drain()
            await engine.dispose()

    app = FastAPI(
        title="Conclave",
        version=__version__,
        description="Self-hosted video platform: rooms, access tokens and real meetings, with a native "
        "API in Digital Samba's conventions and drop-in compatible vendor surfaces.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.secrets = runtime.secrets
    app.state.engine = engine
    app.state.sessionmaker = runtime.sessionmaker
    app.state.bus = runtime.bus
    app.state.tenancy = runtime.tenancy
    app.state.access = runtime.access
    app.state.rooms = runtime.rooms
    app.state.events = runtime.events
    app.state.webhooks = runtime.webhooks
    app.state.scenes = runtime.scenes
    app.state.jobs = runtime.jobs
    app.state.runner = runtime.runner
    app.state.verifier = TokenVerifier(runtime.tenancy, runtime.access)
    app.state.sessions = runtime.sessions
    app.state.chat = runtime.chat
    app.state.realtime = runtime.realtime
    app.state.recordings = runtime.recordings
    app.state.qa = runtime.qa
    app.state.polls = runtime.polls
    app.state.quizzes = runtime.quizzes
    app.state.transcripts = runtime.transcripts
    app.state.libraries = runtime.libraries
    app.state.retention = runtime.retention
    app.state.statistics = StatisticsService()
    app.state.media_info = MediaInfo(nodes=(), local=False, client_ice_addresses=())

    exception_handlers.install(app)

    # Health first: routes are matched in order, and probes should be the cheapest request.
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

    app.include_router(tenancy_endpoints.admin_router)
    app.include_router(tenancy_endpoints.projects_router)
    app.include_router(access_endpoints.router)
    app.include_router(room_endpoints.router)
    app.include_router(session_endpoints.router)
    app.include_router(chat_endpoints.router)
    app.include_router(qa_endpoints.router)
    app.include_router(poll_endpoints.router)
    app.include_router(quiz_endpoints.router)
    app.include_router(transcript_endpoints.router)
    app.include_router(library_endpoints.router)
    app.include_router(statistics_endpoints.router)
    app.include_router(retention_endpoints.router)
    app.include_router(realtime_endpoints.router)
    app.include_router(recording_endpoints.router)
    from conclave.web.endpoints import router as meeting_page_router

    app.include_router(meeting_page_router)
    app.include_router(event_endpoints.router)
    app.include_router(webhook_endpoints.router)
    app.include_router(scene_endpoints.router)
    app.include_router(scene_endpoints.pages_router)
    app.include_router(videsk_endpoints.router)
    app.include_router(xrcloud_endpoints.router)
    app.include_router(xrcloud_endpoints.storage_router)
    from conclave.compat.qriib.endpoints import router as qriib_router

    app.include_router(qriib_router)
    serve_first(app, room_endpoints.first_router)
    index_included_routers(app.router.routes)
    return app

"""Webhook fixtures: an app with short retry settings on the same databases, and its runner."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from conclave.app import create_app
from conclave.kit.jobs import JobRunner
from tests.conftest import PUBLIC_URL, make_settings
from tests.webhooks.receiver import Receiver

# Fast enough for tests, still exercising real backoff: attempts ~0.05-0.2 s apart, give up after 3 s.
FAST = {
    "webhook_backoff_base_seconds": 0.05,
    "webhook_backoff_cap_seconds": 0.2,
    "webhook_retry_period_seconds": 3.0,
    "webhook_timeout_seconds": 5.0,
    "worker_poll_interval_seconds": 0.1,
    "job_lease_seconds": 5.0,
    "job_backoff_base_seconds": 0.05,
    "job_backoff_cap_seconds": 0.2,
}


@pytest.fixture(scope="session")
async def webhook_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url, tmp_path_factory.mktemp("webhooks"), **FAST))
    yield application
    await application.state.runner.stop()
    await application.state.engine.dispose()


@pytest.fixture(scope="session")
async def webhook_client(webhook_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=webhook_app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
        yield http


@pytest.fixture
async def runner(webhook_app: FastAPI) -> AsyncIterator[JobRunner]:
    """The app's in-process runner, as the embedded server's lifespan would start it."""
    job_runner: JobRunner = webhook_app.state.runner
    await job_runner.start()
    yield job_runner
    await job_runner.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver().start()
    yield started
    await started.stop()

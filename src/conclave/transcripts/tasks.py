"""Durable transcript jobs: ``transcript.finalize`` after a transcribed session ends, ``summary.generate``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conclave.kit.events import EventBus
from conclave.kit.jobs import JobQueue
from conclave.kit.transaction import transaction
from conclave.transcripts.service import FINALIZE_JOB, SUMMARIZE_JOB, TranscriptService


async def finalize(
    service: TranscriptService,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: EventBus,
    payload: dict[str, Any],
) -> None:
    async with transaction(sessionmaker, bus) as db:
        await service.finalize(db, payload["project_id"], payload["session_id"])


async def generate_summary(
    service: TranscriptService,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: EventBus,
    payload: dict[str, Any],
) -> None:
    async with transaction(sessionmaker, bus) as db:
        await service.generate_summary(db, payload["project_id"], payload["summary_id"])


def register(
    jobs: JobQueue, service: TranscriptService, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus
) -> None:
    async def on_finalize(payload: dict[str, Any]) -> None:
        await finalize(service, sessionmaker, bus, payload)

    async def on_summary(payload: dict[str, Any]) -> None:
        await generate_summary(service, sessionmaker, bus, payload)

    jobs.register(FINALIZE_JOB, on_finalize)
    jobs.register(SUMMARIZE_JOB, on_summary)
    bus.subscribe_in_transaction(service.on_committing)

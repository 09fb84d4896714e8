"""Durable quiz jobs: ``quiz.end`` closes a run at its deadline even if nobody is watching."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conclave.kit.events import EventBus
from conclave.kit.jobs import JobQueue
from conclave.kit.transaction import transaction
from conclave.quizzes.service import END_JOB, QuizService


async def end_run(
    service: QuizService,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: EventBus,
    payload: dict[str, Any],
) -> None:
    async with transaction(sessionmaker, bus) as db:
        await service.end_run(db, payload["project_id"], payload["run_id"])


def register(
    jobs: JobQueue, service: QuizService, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus
) -> None:
    async def handler(payload: dict[str, Any]) -> None:
        await end_run(service, sessionmaker, bus, payload)

    jobs.register(END_JOB, handler)

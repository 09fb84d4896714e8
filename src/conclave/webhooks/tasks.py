"""Durable jobs of the webhooks domain, thin wrappers around ``WebhookService.deliver_endpoint``.

``webhook.deliver`` — payload ``{"endpoint_id"}``, key ``webhook.deliver:<endpoint>``: drains
one endpoint's per-room FIFO queues (jobs queued before 0012 also carry an ``ordering_key``,
which no longer matters). The sender (and its HTTP connection pool) is shared by every job of a
runner, and so are the group commits of their rounds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conclave.kit.events import EventBus
from conclave.kit.jobs import JobQueue, Reschedule
from conclave.webhooks.sender import WebhookSender
from conclave.webhooks.service import DELIVER_JOB, DeliveryBatches, WebhookService


def register(
    jobs: JobQueue,
    webhooks: WebhookService,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: EventBus,
    sender: WebhookSender,
) -> None:
    batches = DeliveryBatches(webhooks, sessionmaker, bus)

    async def deliver(payload: dict[str, Any]) -> Reschedule | None:
        return await webhooks.deliver_endpoint(batches, sender, str(payload["endpoint_id"]))

    jobs.register(DELIVER_JOB, deliver)
    jobs.on_shutdown(sender.aclose)

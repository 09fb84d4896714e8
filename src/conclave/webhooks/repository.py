"""Every query of the webhooks domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.db import table_of
from conclave.kit.ids import is_uuid
from conclave.kit.pagination import PageParams
from conclave.kit.repository import ProjectScopedRepository, paginate
from conclave.tenancy.models import Project
from conclave.webhooks.models import WebhookDelivery, WebhookEndpoint

_PROJECT_AND_ENDPOINTS = (
    select(Project, WebhookEndpoint)
    .outerjoin(WebhookEndpoint, WebhookEndpoint.project_id == Project.id)
    .where(Project.id == bindparam("project_id"))
    .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
)
"""Built once: the outbox hook runs it in every transaction that changes something."""


class WebhookRepository(ProjectScopedRepository[WebhookEndpoint]):
    model = WebhookEndpoint

    async def by_id(self, webhook_id: str) -> WebhookEndpoint | None:
        if not is_uuid(webhook_id):
            return None
        statement = self.scoped().where(WebhookEndpoint.id == webhook_id.lower())
        endpoint: WebhookEndpoint | None = (await self.session.execute(statement)).scalars().first()
        return endpoint

    async def project_and_endpoints(self) -> tuple[Project | None, list[WebhookEndpoint]]:
        """The project and all its endpoints in one query: the outbox hook runs on every change."""
        rows: Sequence[Any] = (await self.execute_prebuilt(_PROJECT_AND_ENDPOINTS)).all()
        if not rows:
            return None, []
        return rows[0][0], [endpoint for _, endpoint in rows if endpoint is not None]

    async def url_taken(self, url: str, *, except_id: str | None = None) -> bool:
        statement = self.scoped(select(WebhookEndpoint.id)).where(
            WebhookEndpoint.url == url, WebhookEndpoint.source == "api"
        )
        if except_id is not None:
            statement = statement.where(WebhookEndpoint.id != except_id)
        return (await self.session.execute(statement)).first() is not None

    async def project_endpoint(self) -> WebhookEndpoint | None:
        statement = self.scoped().where(WebhookEndpoint.source == "project")
        endpoint: WebhookEndpoint | None = (await self.session.execute(statement)).scalars().first()
        return endpoint

    async def page(
        self, params: PageParams, cursor: WebhookEndpoint | None
    ) -> tuple[list[WebhookEndpoint], int]:
        return await self.paginate(self.scoped(), params, cursor)

    async def delivery(self, endpoint_id: str, delivery_id: str) -> WebhookDelivery | None:
        if not is_uuid(delivery_id):
            return None
        statement = select(WebhookDelivery).where(
            WebhookDelivery.project_id == self.project_id,
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.id == delivery_id.lower(),
        )
        delivery: WebhookDelivery | None = (await self.session.execute(statement)).scalars().first()
        return delivery

    async def deliveries(
        self, endpoint_id: str, params: PageParams, statuses: list[str], cursor: WebhookDelivery | None
    ) -> tuple[list[WebhookDelivery], int]:
        statement = select(WebhookDelivery).where(
            WebhookDelivery.project_id == self.project_id, WebhookDelivery.endpoint_id == endpoint_id
        )
        if statuses:
            statement = statement.where(WebhookDelivery.status.in_(statuses))
        return await paginate(self.session, statement, WebhookDelivery, params, cursor)

    async def has_pending(self, endpoint_id: str) -> bool:
        statement = (
            select(WebhookDelivery.id)
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "pending")
            .limit(1)
        )
        return (await self.session.execute(statement)).first() is not None


class DeliveryQueueRepository:
    """Queries of the delivery worker, which acts for no particular tenant."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def endpoint(self, endpoint_id: str) -> WebhookEndpoint | None:
        return await self.session.get(WebhookEndpoint, endpoint_id)

    async def endpoints(self, endpoint_ids: list[str]) -> dict[str, WebhookEndpoint]:
        found = await self.session.execute(_ENDPOINTS, {"endpoint_ids": endpoint_ids})
        return {endpoint.id: endpoint for endpoint in found.scalars().all()}

    async def delivery(self, delivery_id: str) -> WebhookDelivery | None:
        return await self.session.get(WebhookDelivery, delivery_id)

    async def heads(self, endpoint_ids: list[str], per_queue: int, limit: int) -> list[QueuedDelivery]:
        """The oldest pending deliveries of each FIFO queue of these endpoints, oldest first.

        At most ``per_queue`` per queue, so a long backlog in one room never hides the others,
        and at most ``limit`` per endpoint, so one endpoint's backlog never hides another's.
        """
        if not endpoint_ids:
            return []
        found = await self.session.execute(
            _HEADS, {"endpoint_ids": endpoint_ids, "per_queue": per_queue, "per_endpoint": limit}
        )
        return [QueuedDelivery(*row) for row in found.all()]

    async def lease(self, delivery_ids: list[str], now: datetime, until: datetime) -> set[str]:
        """Atomically take the right to attempt deliveries; returns those no other worker holds."""
        found = await self.session.execute(_LEASE, {"b_ids": delivery_ids, "b_now": now, "b_until": until})
        return set(found.scalars().all())

    async def release(self, delivery_ids: list[str]) -> None:
        statement = (
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(delivery_ids))
            .values(locked_until=None)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(statement)

    async def mark_delivered(self, outcomes: list[dict[str, Any]]) -> None:
        """Settle successful attempts in one executemany (``b_id`` and the new column values)."""
        columns = tuple(name for name in outcomes[0] if name != "b_id")
        statement = _SETTLE.get(columns)
        if statement is None:
            statement = _SETTLE[columns] = (
                update(_DELIVERIES)
                .where(_DELIVERIES.c.id == bindparam("b_id"))
                .values({name: bindparam(name, type_=_DELIVERIES.c[name].type) for name in columns})
            )
        await self.session.execute(statement, outcomes)

    async def reset_failures(self, endpoint_id: str) -> None:
        await self.session.execute(_RESET_FAILURES, {"b_endpoint_id": endpoint_id})


# The delivery path's statements, built once (see ``kit.repository.prebuilt_scoped``): every
# webhook job runs them. An update's parameters may not be named after its columns (``b_``).
_DELIVERIES = table_of(WebhookDelivery)
_ENDPOINTS = select(WebhookEndpoint).where(WebhookEndpoint.id.in_(bindparam("endpoint_ids", expanding=True)))
_LEASE = (
    update(WebhookDelivery)
    .where(
        WebhookDelivery.id.in_(bindparam("b_ids", expanding=True)),
        WebhookDelivery.status == "pending",
        or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until <= bindparam("b_now")),
    )
    .values(locked_until=bindparam("b_until"))
    .returning(WebhookDelivery.id)
    .execution_options(synchronize_session=False)
)
_RESET_FAILURES = (
    update(WebhookEndpoint)
    .where(WebhookEndpoint.id == bindparam("b_endpoint_id"), WebhookEndpoint.consecutive_failures > 0)
    .values(consecutive_failures=0)
    .execution_options(synchronize_session=False)
)
_SETTLE: dict[tuple[str, ...], Any] = {}
"""Settling statements by the columns an outcome sets (a handful of shapes)."""


def _heads() -> Any:
    """The queue heads query of :meth:`DeliveryQueueRepository.heads`."""
    in_queue = (
        func.row_number()
        .over(
            partition_by=(WebhookDelivery.endpoint_id, WebhookDelivery.ordering_key),
            order_by=(WebhookDelivery.created_at, WebhookDelivery.id),
        )
        .label("in_queue")
    )
    pending = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.endpoint_id,
            WebhookDelivery.ordering_key,
            WebhookDelivery.event_type,
            WebhookDelivery.body,
            WebhookDelivery.attempts,
            WebhookDelivery.next_attempt_at,
            WebhookDelivery.locked_until,
            WebhookDelivery.created_at,
            in_queue,
        )
        .where(
            WebhookDelivery.endpoint_id.in_(bindparam("endpoint_ids", expanding=True)),
            WebhookDelivery.status == "pending",
        )
        .subquery()
    )
    in_endpoint = (
        func.row_number()
        .over(partition_by=pending.c.endpoint_id, order_by=(pending.c.created_at, pending.c.id))
        .label("in_endpoint")
    )
    columns = [
        pending.c.id,
        pending.c.endpoint_id,
        pending.c.ordering_key,
        pending.c.event_type,
        pending.c.body,
        pending.c.attempts,
        pending.c.next_attempt_at,
        pending.c.locked_until,
    ]
    ranked = (
        select(*columns, pending.c.created_at, in_endpoint)
        .where(pending.c.in_queue <= bindparam("per_queue"))
        .subquery()
    )
    return (
        select(*(ranked.c[column.name] for column in columns))
        .where(ranked.c.in_endpoint <= bindparam("per_endpoint"))
        .order_by(ranked.c.created_at, ranked.c.id)
    )


_HEADS = _heads()


@dataclass(frozen=True)
class QueuedDelivery:
    id: str
    endpoint_id: str
    ordering_key: str
    event_type: str
    body: str
    attempts: int
    next_attempt_at: datetime
    locked_until: datetime | None

    def waits_until(self, now: datetime) -> datetime | None:
        """When this delivery may be attempted, if not now (backoff, or another worker's lease)."""
        if self.next_attempt_at > now:
            return self.next_attempt_at
        if self.locked_until is not None and self.locked_until > now:
            return self.locked_until
        return None

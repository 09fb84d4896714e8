"""Every query of the webhooks domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.ids import is_uuid
from conclave.kit.pagination import PageParams
from conclave.kit.repository import ProjectScopedRepository, paginate
from conclave.tenancy.models import Project
from conclave.webhooks.models import WebhookDelivery, WebhookEndpoint


class WebhookRepository(ProjectScopedRepository[WebhookEndpoint]):
    model = WebhookEndpoint

    async def by_id(self, webhook_id: str) -> WebhookEndpoint | None:
        if not is_uuid(webhook_id):
            return None
        statement = self.scoped().where(WebhookEndpoint.id == webhook_id.lower())
        endpoint: WebhookEndpoint | None = (await self.session.execute(statement)).scalars().first()
        return endpoint

    async def project(self) -> Project | None:
        """The project itself (already in the session's identity map on API requests)."""
        return await self.session.get(Project, self.project_id)

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

    async def all_endpoints(self) -> list[WebhookEndpoint]:
        statement = self.scoped().order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        return list((await self.session.execute(statement)).scalars().all())

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

    async def pending_queues(self, endpoint_id: str) -> list[str]:
        statement = (
            select(WebhookDelivery.ordering_key)
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "pending")
            .distinct()
        )
        return list((await self.session.execute(statement)).scalars().all())


class DeliveryQueueRepository:
    """Queries of the delivery worker, which acts for no particular tenant."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def endpoint(self, endpoint_id: str) -> WebhookEndpoint | None:
        return await self.session.get(WebhookEndpoint, endpoint_id)

    async def delivery(self, delivery_id: str) -> WebhookDelivery | None:
        return await self.session.get(WebhookDelivery, delivery_id)

    async def head(self, endpoint_id: str, ordering_key: str) -> WebhookDelivery | None:
        """The oldest pending delivery of one FIFO queue: the only one that may be attempted."""
        statement = (
            select(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookDelivery.ordering_key == ordering_key,
                WebhookDelivery.status == "pending",
            )
            .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
            .limit(1)
        )
        delivery: WebhookDelivery | None = (await self.session.execute(statement)).scalars().first()
        return delivery

    async def lease(self, delivery_id: str, now: datetime, until: datetime) -> bool:
        """Atomically take the right to attempt a delivery; false if another worker holds it."""
        statement = (
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == "pending",
                or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until <= now),
            )
            .values(locked_until=until)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release(self, delivery_id: str) -> None:
        statement = (
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(locked_until=None)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(statement)

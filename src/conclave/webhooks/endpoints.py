"""Native routes: webhook endpoints (Digital Samba paths), their deliveries, and redelivery."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from conclave.kit.pagination import Page, PageParams, page_params
from conclave.kit.routing import TransactionalRoute, from_state
from conclave.tenancy.auth import CurrentProject, Session
from conclave.webhooks.schemas import DeliveryOut, WebhookCreate, WebhookOut, WebhookUpdate
from conclave.webhooks.service import WebhookService

webhook_service = from_state("webhooks")


Webhooks = Annotated[WebhookService, Depends(webhook_service)]
Pagination = Annotated[PageParams, Depends(page_params)]

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], route_class=TransactionalRoute)


@router.get("", response_model=Page[WebhookOut])
async def list_webhooks(
    project: CurrentProject, session: Session, webhooks: Webhooks, page: Pagination
) -> Page[WebhookOut]:
    """The project's webhooks, including the one mirroring the project's `webhook_url`."""
    rows, total = await webhooks.list_webhooks(session, project, page)
    return Page(total_count=total, data=[WebhookOut.model_validate(webhooks.view(row)) for row in rows])


@router.post("", response_model=WebhookOut)
async def create_webhook(
    body: WebhookCreate, project: CurrentProject, session: Session, webhooks: Webhooks
) -> WebhookOut:
    """Create a webhook; `secret` is generated when omitted and returned in the response."""
    endpoint = await webhooks.create_webhook(session, project, body)
    return WebhookOut.model_validate(webhooks.view(endpoint))


@router.get("/{webhook}", response_model=WebhookOut)
async def get_webhook(
    webhook: str, project: CurrentProject, session: Session, webhooks: Webhooks
) -> WebhookOut:
    endpoint = await webhooks.get_webhook(session, project, webhook)
    return WebhookOut.model_validate(webhooks.view(endpoint))


@router.patch("/{webhook}", response_model=WebhookOut)
async def update_webhook(
    webhook: str, body: WebhookUpdate, project: CurrentProject, session: Session, webhooks: Webhooks
) -> WebhookOut:
    """Change a webhook. Enabling a disabled webhook sends the deliveries that waited meanwhile."""
    endpoint = await webhooks.update_webhook(session, project, webhook, body)
    return WebhookOut.model_validate(webhooks.view(endpoint))


@router.delete("/{webhook}", status_code=204)
async def delete_webhook(
    webhook: str, project: CurrentProject, session: Session, webhooks: Webhooks
) -> Response:
    """Delete a webhook and its delivery history; pending deliveries are dropped."""
    await webhooks.delete_webhook(session, project, webhook)
    return Response(status_code=204)


@router.get("/{webhook}/deliveries", response_model=Page[DeliveryOut])
async def list_deliveries(
    webhook: str,
    project: CurrentProject,
    session: Session,
    webhooks: Webhooks,
    page: Pagination,
    status: Annotated[
        list[Literal["pending", "delivered", "failed"]] | None, Query(description="Only these statuses.")
    ] = None,
) -> Page[DeliveryOut]:
    """Deliveries of a webhook, newest first: status, attempts, last response and next attempt."""
    rows, total = await webhooks.list_deliveries(session, project, webhook, page, list(status or []))
    return Page(total_count=total, data=[DeliveryOut.model_validate(row) for row in rows])


@router.get("/{webhook}/deliveries/{delivery}", response_model=DeliveryOut)
async def get_delivery(
    webhook: str, delivery: str, project: CurrentProject, session: Session, webhooks: Webhooks
) -> DeliveryOut:
    return DeliveryOut.model_validate(await webhooks.get_delivery(session, project, webhook, delivery))


@router.post("/{webhook}/deliveries/{delivery}/redeliver", response_model=DeliveryOut)
async def redeliver(
    webhook: str, delivery: str, project: CurrentProject, session: Session, webhooks: Webhooks
) -> DeliveryOut:
    """Send a delivered or failed delivery again, keeping its delivery id. 409 while it is pending."""
    return DeliveryOut.model_validate(await webhooks.redeliver(session, project, webhook, delivery))

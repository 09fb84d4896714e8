"""Webhook tables: endpoints per project, and the outbox of deliveries (one row per (event, endpoint))."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from conclave.kit.db import Base, IdMixin, TimestampMixin

ENDPOINT_SOURCES = ("api", "project")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookEndpoint(IdMixin, TimestampMixin, Base):
    """A receiver. ``source="project"`` mirrors the project's ``webhook_url`` (one per project)."""

    __tablename__ = "webhook_endpoints"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(default=list)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(default=True)
    source: Mapped[str] = mapped_column(String(16), default="api")
    payload_format: Mapped[str] = mapped_column(String(16), default="conclave", server_default="conclave")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    disabled_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        Index("ix_webhook_endpoints_project_created", "project_id", "created_at", "id"),
        Index(
            "uq_webhook_endpoints_project_source",
            "project_id",
            unique=True,
            sqlite_where=text("source = 'project'"),
            postgresql_where=text("source = 'project'"),
        ),
        CheckConstraint("source IN ('api', 'project')", name="source"),
    )


_PENDING = text("status = 'pending'")


class WebhookDelivery(IdMixin, TimestampMixin, Base):
    """One event for one endpoint; its ``id`` is the ``X-Conclave-Delivery`` header, kept across retries.

    Deliveries of one (endpoint, ``ordering_key``) go out strictly in ``created_at`` order (the
    event's time): ``ordering_key`` is the room id, or ``"project"`` for events outside rooms.
    ``body`` holds the exact bytes sent, so every retry carries the same payload.
    """

    __tablename__ = "webhook_deliveries"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(64))
    room_id: Mapped[str | None] = mapped_column(String(36))
    ordering_key: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    retry_until: Mapped[datetime] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column()
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_response: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        # Delivery reads the oldest pending rows of each of an endpoint's queues (room order).
        Index(
            "ix_webhook_deliveries_pending",
            "endpoint_id",
            "ordering_key",
            "created_at",
            "id",
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at", "id"),
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
    )

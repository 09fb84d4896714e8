"""Domain events: raised inside a transaction, published on the bus only after it commits.

Every state change a client could care about becomes a ``DomainEvent``; webhooks, the room
event log, realtime fan-out and statistics subscribe to the bus rather than being called
from services, so there is one path for side effects.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.ids import new_id
from conclave.kit.time import utcnow

log = logging.getLogger(__name__)

_PENDING_KEY = "conclave.pending_events"


@dataclass(frozen=True)
class DomainEvent:
    type: str
    project_id: str
    data: dict[str, Any]
    room_id: str | None = None
    session_id: str | None = None
    id: str = field(default_factory=new_id)
    occurred_at: datetime = field(default_factory=utcnow)


EventHandler = Callable[[DomainEvent], Awaitable[None]]


class EventBus(Protocol):
    def subscribe(self, handler: EventHandler) -> None: ...

    async def publish(self, events: list[DomainEvent]) -> None: ...


class InProcessEventBus:
    """The embedded bus: handlers run in this process, in subscription order."""

    def __init__(self) -> None:
        self._handlers: list[EventHandler] = []

    def subscribe(self, handler: EventHandler) -> None:
        self._handlers.append(handler)

    async def publish(self, events: list[DomainEvent]) -> None:
        for event in events:
            for handler in self._handlers:
                try:
                    await handler(event)
                except Exception:
                    # One failing consumer must not stop the others; durable consumers keep
                    # their own outbox, so a crash here loses nothing they are responsible for.
                    log.exception("event handler failed", extra={"event_type": event.type})


def emit(session: AsyncSession, event: DomainEvent) -> None:
    """Queue an event on the session's transaction; it is published only if that commits."""
    session.info.setdefault(_PENDING_KEY, []).append(event)


def take_pending(session: AsyncSession) -> list[DomainEvent]:
    events: list[DomainEvent] = session.info.pop(_PENDING_KEY, [])
    return events

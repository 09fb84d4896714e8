"""Domain events: raised inside a transaction, published on the bus only after it commits.

Every state change a client could care about becomes a ``DomainEvent``; webhooks, the room
event log, realtime fan-out and statistics subscribe to the bus rather than being called
from services, so there is one path for side effects.

Two kinds of subscribers exist. ``subscribe`` handlers run after the commit (live fan-out:
best effort, nothing to roll back). ``subscribe_in_transaction`` handlers run inside the
committing transaction, just before the commit, so durable consumers (the room event log,
the webhook outbox) write their rows atomically with the state change: an event is either
committed with its log and outbox rows or not at all.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
TransactionHandler = Callable[[AsyncSession, list[DomainEvent]], Awaitable[None]]


class EventBus(Protocol):
    def subscribe(self, handler: EventHandler) -> None: ...

    def subscribe_in_transaction(self, handler: TransactionHandler) -> None: ...

    async def before_commit(self, session: AsyncSession, events: list[DomainEvent]) -> None: ...

    async def publish(self, events: list[DomainEvent]) -> None: ...


class InProcessEventBus:
    """The embedded bus: handlers run in this process, in subscription order."""

    def __init__(self) -> None:
        self._handlers: list[EventHandler] = []
        self._transaction_handlers: list[TransactionHandler] = []

    def subscribe(self, handler: EventHandler) -> None:
        self._handlers.append(handler)

    def subscribe_in_transaction(self, handler: TransactionHandler) -> None:
        self._transaction_handlers.append(handler)

    async def before_commit(self, session: AsyncSession, events: list[DomainEvent]) -> None:
        """Let durable consumers write their rows; an exception here aborts the whole transaction."""
        for handler in self._transaction_handlers:
            await handler(session, events)

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
    """Queue an event on the session's transaction; it is published only if that commits.

    Timestamps within one transaction are made strictly increasing, so consumers that order
    by time (the event log, per-room webhook FIFO) keep the order in which services emitted.
    """
    pending: list[DomainEvent] = session.info.setdefault(_PENDING_KEY, [])
    if pending and event.occurred_at <= pending[-1].occurred_at:
        event = dataclasses.replace(event, occurred_at=pending[-1].occurred_at + timedelta(microseconds=1))
    pending.append(event)


def peek_pending(session: AsyncSession) -> list[DomainEvent]:
    return list(session.info.get(_PENDING_KEY, []))


def take_pending(session: AsyncSession) -> list[DomainEvent]:
    events: list[DomainEvent] = session.info.pop(_PENDING_KEY, [])
    return events

"""The only code that changes webhook rows: endpoints, the outbox, and delivery outcomes.

Rows first, then jobs (STYLE item 6): ``on_events`` runs inside the transaction that raised
the events and writes one ``WebhookDelivery`` per (event and subscribed endpoint) plus a
``webhook.deliver`` job per (endpoint, room) queue, so a committed state change always has its
deliveries and a rolled-back one never does. ``deliver_queue`` is the job's body: it attempts
the oldest pending delivery of one queue at a time, so events of one room reach one endpoint
in order, and never holds a database connection while the receiver is being called.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conclave.events.schemas import matches
from conclave.events.service import payload
from conclave.kit.coalesce import Coalescer
from conclave.kit.crypto import SecretBox
from conclave.kit.errors import Conflict, NotFound, ValidationFailed
from conclave.kit.events import DomainEvent, EventBus
from conclave.kit.ids import new_id, new_secret
from conclave.kit.jobs import JobQueue, Reschedule, RunningJob, backoff_delay
from conclave.kit.pagination import PageParams
from conclave.kit.read_cache import ReadCache
from conclave.kit.time import utcnow
from conclave.kit.transaction import transaction
from conclave.tenancy.models import Project
from conclave.webhooks.models import WebhookDelivery, WebhookEndpoint
from conclave.webhooks.repository import DeliveryQueueRepository, QueuedDelivery, WebhookRepository
from conclave.webhooks.schemas import WebhookCreate, WebhookUpdate
from conclave.webhooks.sender import DestinationRefused, SendResult, WebhookSender, check_destination

log = logging.getLogger(__name__)

DELIVER_JOB = "webhook.deliver"
PROJECT_QUEUE = "project"
HEADS_PER_QUEUE = 20
"""How many due deliveries of one room a round may send (one after the other)."""
HEADS_PER_ROUND = 500
"""How many due deliveries of one endpoint a round may lease (and settle) at once."""
ROOMS_AT_ONCE = 8
"""How many rooms' requests one endpoint receives at the same time (its open connections)."""
LEASE_RECHECK = timedelta(seconds=0.1)
"""How soon a job looks again at rooms another job was sending (its round ends within moments)."""
_PROJECT_URL_CLEARED = "the project's webhook_url was cleared"


@dataclass(frozen=True)
class DeliveryPolicy:
    retry_period: timedelta
    backoff_base: float
    backoff_cap: float
    lease: timedelta
    disable_after_failures: int
    allow_private: bool


@dataclass(frozen=True)
class _Attempt:
    delivery_id: str
    event_type: str
    body: bytes
    attempts: int


@dataclass(frozen=True)
class _Round:
    """What one endpoint's job sends next."""

    endpoint_id: str
    url: str
    secret: str
    endpoint_failing: bool  # a success must reset the endpoint's failure count
    queues: list[list[_Attempt]]  # per room, in order
    everything: bool  # no pending delivery of the endpoint was left out of this round


@dataclass
class _Plan:
    """One endpoint's heads grouped by room, before leasing (see ``WebhookService._plan``)."""

    queues: dict[str, list[QueuedDelivery]] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)  # rooms whose head must wait
    wake: datetime | None = None  # when the earliest held head may go


@dataclass(frozen=True)
class _Outcome:
    taken: _Round
    sent: list[tuple[_Attempt, SendResult]]
    unsent: list[str]  # leased but not attempted (after a failure earlier in the room)
    finishes: RunningJob | None  # the job to end with this record, when its round was complete


class DeliveryBatches:
    """The group commits of a runner's webhook jobs: leasing rounds and recording outcomes.

    Built once where the delivery job is registered (``webhooks.tasks``), since it holds the
    database session factory and bus those transactions use.
    """

    def __init__(
        self, service: WebhookService, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus
    ) -> None:
        async def take(requests: list[tuple[str, RunningJob | None]]) -> list[_Round | Reschedule | None]:
            async with transaction(sessionmaker, bus) as session:
                return await service.take_rounds(session, requests)

        async def store(outcomes: list[_Outcome]) -> None:
            async with transaction(sessionmaker, bus) as session:
                await service.record_rounds(session, outcomes)

        async def record(outcomes: list[_Outcome]) -> list[Exception | None]:
            try:
                await store(outcomes)
                return [None] * len(outcomes)
            except Exception:
                if len(outcomes) == 1:
                    raise
            # One webhook's bad outcome must not undo the others': record each on its own.
            results: list[Exception | None] = []
            for outcome in outcomes:
                try:
                    await store([outcome])
                    results.append(None)
                except Exception as exc:
                    results.append(exc)
            return results

        self.take = Coalescer(take)
        self.record = Coalescer(record)


PayloadFormatter = Callable[[DomainEvent, Project], dict[str, Any] | None]


def conclave_payload(event: DomainEvent, project: Project) -> dict[str, Any] | None:
    """Every event, in the Digital Samba shape (``{"event", "timestamp", "data"}``)."""
    return payload(event)


class WebhookService:
    def __init__(
        self, box: SecretBox, jobs: JobQueue, policy: DeliveryPolicy, *, cache_ttl_seconds: float = 0.0
    ) -> None:
        self.box = box
        self.jobs = jobs
        self.policy = policy
        self.formats: dict[str, PayloadFormatter] = {"conclave": conclave_payload}
        # Projects known to have no webhook at all, so the outbox hook skips its query for them.
        # Only the API (this process) gives a project its first endpoint or its webhook_url.
        self._without_webhooks: ReadCache[str, bool] = ReadCache(
            ("projects", "webhook_endpoints"), ttl_seconds=cache_ttl_seconds
        )

    def register_format(self, name: str, formatter: PayloadFormatter) -> None:
        """A compatible surface's body for the events its platform sends (None: not sent)."""
        self.formats[name] = formatter

    def _body(self, fmt: str, event: DomainEvent, project: Project) -> str | None:
        shaped = self.formats.get(fmt, conclave_payload)(event, project)
        return None if shaped is None else json.dumps(shaped, separators=(",", ":"), ensure_ascii=False)

    # -- the outbox (bus hook) ---------------------------------------------------------------

    async def on_events(self, session: AsyncSession, events: list[DomainEvent]) -> None:
        """Bus hook (in transaction): one delivery row per event and subscribed endpoint, then jobs."""
        by_project: dict[str, list[DomainEvent]] = {}
        for event in events:
            by_project.setdefault(event.project_id, []).append(event)
        touched: set[str] = set()
        now = utcnow()
        for project_id, project_events in by_project.items():
            if self._without_webhooks.get(project_id):
                continue
            generation = self._without_webhooks.generation()
            repository = WebhookRepository(session, project_id)
            project, known = await repository.project_and_endpoints()
            if project is None:  # the event announces the project's own deletion
                continue
            if not known and not project.webhook_url:
                self._without_webhooks.put(project_id, True, generation)
                continue
            current = next((e for e in known if e.source == "project"), None)
            synced = await self._sync_project_endpoint(session, repository, project, current)
            if synced is not None and synced not in known:
                known.append(synced)
            endpoints = [e for e in known if e.enabled]
            if not endpoints:
                continue
            for event in project_events:
                bodies: dict[str, str | None] = {}
                ordering_key = event.room_id or PROJECT_QUEUE
                for endpoint in endpoints:
                    if not matches(endpoint.events, event.type):
                        continue
                    fmt = endpoint.payload_format
                    if fmt not in bodies:
                        bodies[fmt] = self._body(fmt, event, project)
                    body = bodies[fmt]
                    if body is None:
                        continue
                    session.add(
                        WebhookDelivery(
                            id=new_id(),
                            project_id=project_id,
                            endpoint_id=endpoint.id,
                            event_id=event.id,
                            event_type=event.type,
                            room_id=event.room_id,
                            ordering_key=ordering_key,
                            body=body,
                            status="pending",
                            attempts=0,
                            next_attempt_at=now,
                            retry_until=now + self.policy.retry_period,
                            created_at=event.occurred_at,
                            updated_at=now,
                        )
                    )
                    touched.add(endpoint.id)
        await self.jobs.enqueue_keyed(
            session, DELIVER_JOB, {self._job_key(e): {"endpoint_id": e} for e in sorted(touched)}
        )

    @staticmethod
    def _job_key(endpoint_id: str) -> str:
        return f"{DELIVER_JOB}:{endpoint_id}"

    async def _enqueue(self, session: AsyncSession, endpoint_id: str) -> None:
        await self.jobs.enqueue(
            session, DELIVER_JOB, {"endpoint_id": endpoint_id}, key=self._job_key(endpoint_id)
        )

    async def _sync_project_endpoint(
        self,
        session: AsyncSession,
        repository: WebhookRepository,
        project: Project,
        current: WebhookEndpoint | None,
    ) -> WebhookEndpoint | None:
        """Mirror ``Project.webhook_url`` as the project's ``source="project"`` endpoint (``current``)."""
        endpoint = current
        url = project.webhook_url
        now = utcnow()
        if endpoint is None:
            if not url:
                return None
            values = {
                "id": new_id(),
                "project_id": project.id,
                "url": url,
                "events": [],
                "secret_encrypted": self.box.encrypt(new_secret()),
                "description": "the project's webhook_url",
                "enabled": True,
                "source": "project",
                "payload_format": project.webhook_format,
                "consecutive_failures": 0,
                "created_at": now,
                "updated_at": now,
            }
            insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            # Two concurrent first events of a project may both get here; one row wins.
            statement = insert_(WebhookEndpoint).values(**values).on_conflict_do_nothing()
            await session.execute(statement)
            return await repository.project_endpoint()
        if url and endpoint.url != url:
            endpoint.url = url
        if endpoint.payload_format != project.webhook_format:
            endpoint.payload_format = project.webhook_format
        if url and not endpoint.enabled and endpoint.disabled_reason == _PROJECT_URL_CLEARED:
            self._enable(endpoint)
        if not url and endpoint.enabled:
            self._disable(endpoint, _PROJECT_URL_CLEARED)
        return endpoint

    # -- endpoints ---------------------------------------------------------------------------

    def view(self, endpoint: WebhookEndpoint) -> dict[str, Any]:
        return {
            "id": endpoint.id,
            "endpoint": endpoint.url,
            "events": endpoint.events,
            "secret": self.box.decrypt(endpoint.secret_encrypted),
            "description": endpoint.description,
            "enabled": endpoint.enabled,
            "source": endpoint.source,
            "consecutive_failures": endpoint.consecutive_failures,
            "disabled_reason": endpoint.disabled_reason,
            "disabled_at": endpoint.disabled_at,
            "created_at": endpoint.created_at,
            "updated_at": endpoint.updated_at,
        }

    async def list_webhooks(
        self, session: AsyncSession, project: Project, params: PageParams
    ) -> tuple[list[WebhookEndpoint], int]:
        repository = WebhookRepository(session, project.id)
        await self._sync_project_endpoint(session, repository, project, await repository.project_endpoint())
        await session.flush()
        cursor = None
        if params.after is not None:
            cursor = await repository.by_id(params.after)
            if cursor is None:
                raise NotFound(
                    f"webhook {params.after!r} given as 'after' not found", code="webhook_not_found"
                )
        return await repository.page(params, cursor)

    async def get_webhook(self, session: AsyncSession, project: Project, webhook_id: str) -> WebhookEndpoint:
        repository = WebhookRepository(session, project.id)
        endpoint = await repository.by_id(webhook_id)
        if endpoint is None:
            # The project endpoint may not exist yet if no event happened since webhook_url was set.
            synced = await self._sync_project_endpoint(
                session, repository, project, await repository.project_endpoint()
            )
            if synced is not None and synced.id == webhook_id.lower():
                return synced
            raise NotFound(f"webhook {webhook_id!r} not found", code="webhook_not_found")
        return endpoint

    async def create_webhook(
        self, session: AsyncSession, project: Project, data: WebhookCreate
    ) -> WebhookEndpoint:
        repository = WebhookRepository(session, project.id)
        await self._check_url(data.endpoint)
        if await repository.url_taken(data.endpoint):
            raise Conflict(f"a webhook for {data.endpoint!r} already exists", code="webhook_exists")
        now = utcnow()
        endpoint = WebhookEndpoint(
            project_id=project.id,
            url=data.endpoint,
            events=data.events,
            secret_encrypted=self.box.encrypt(data.secret or new_secret()),
            description=data.description,
            enabled=data.enabled,
            source="api",
            consecutive_failures=0,
            created_at=now,
            updated_at=now,
        )
        if not data.enabled:
            endpoint.disabled_reason = "created disabled"
            endpoint.disabled_at = now
        session.add(endpoint)
        await session.flush()
        return endpoint

    async def update_webhook(
        self, session: AsyncSession, project: Project, webhook_id: str, data: WebhookUpdate
    ) -> WebhookEndpoint:
        endpoint = await self.get_webhook(session, project, webhook_id)
        fields = data.model_fields_set
        if "endpoint" in fields and data.endpoint is not None and data.endpoint != endpoint.url:
            if endpoint.source == "project":
                raise Conflict(
                    "this webhook mirrors the project's webhook_url; change it on the project",
                    code="project_webhook_managed",
                )
            await self._check_url(data.endpoint)
            if await WebhookRepository(session, project.id).url_taken(data.endpoint, except_id=endpoint.id):
                raise Conflict(f"a webhook for {data.endpoint!r} already exists", code="webhook_exists")
            endpoint.url = data.endpoint
        if "events" in fields and data.events is not None:
            endpoint.events = data.events
        if "secret" in fields and data.secret is not None:
            endpoint.secret_encrypted = self.box.encrypt(data.secret)
        if "description" in fields:
            endpoint.description = data.description
        if "enabled" in fields and data.enabled is not None and data.enabled != endpoint.enabled:
            if data.enabled:
                if endpoint.source == "project" and not project.webhook_url:
                    raise Conflict(
                        "the project has no webhook_url to deliver to", code="project_webhook_unset"
                    )
                self._enable(endpoint)
                # Deliveries that waited while the endpoint was off go out now, in order.
                if await WebhookRepository(session, project.id).has_pending(endpoint.id):
                    await self._enqueue(session, endpoint.id)
            else:
                self._disable(endpoint, "disabled through the API")
        endpoint.updated_at = utcnow()
        await session.flush()
        return endpoint

    async def delete_webhook(self, session: AsyncSession, project: Project, webhook_id: str) -> None:
        endpoint = await self.get_webhook(session, project, webhook_id)
        if endpoint.source == "project":
            raise Conflict(
                "this webhook mirrors the project's webhook_url; clear that on the project instead",
                code="project_webhook_managed",
            )
        await session.delete(endpoint)

    async def _check_url(self, url: str) -> None:
        try:
            await check_destination(url, allow_private=self.policy.allow_private)
        except DestinationRefused as exc:
            raise ValidationFailed(
                str(exc), code="webhook_endpoint_refused", details={"endpoint": url}
            ) from None

    @staticmethod
    def _enable(endpoint: WebhookEndpoint) -> None:
        endpoint.enabled = True
        endpoint.consecutive_failures = 0
        endpoint.disabled_reason = None
        endpoint.disabled_at = None

    @staticmethod
    def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
        endpoint.enabled = False
        endpoint.disabled_reason = reason[:300]
        endpoint.disabled_at = utcnow()
        endpoint.updated_at = utcnow()

    # -- deliveries --------------------------------------------------------------------------

    async def list_deliveries(
        self,
        session: AsyncSession,
        project: Project,
        webhook_id: str,
        params: PageParams,
        statuses: list[str],
    ) -> tuple[list[WebhookDelivery], int]:
        endpoint = await self.get_webhook(session, project, webhook_id)
        repository = WebhookRepository(session, project.id)
        cursor = None
        if params.after is not None:
            cursor = await repository.delivery(endpoint.id, params.after)
            if cursor is None:
                raise NotFound(
                    f"delivery {params.after!r} given as 'after' not found", code="delivery_not_found"
                )
        return await repository.deliveries(endpoint.id, params, statuses, cursor)

    async def get_delivery(
        self, session: AsyncSession, project: Project, webhook_id: str, delivery_id: str
    ) -> WebhookDelivery:
        endpoint = await self.get_webhook(session, project, webhook_id)
        delivery = await WebhookRepository(session, project.id).delivery(endpoint.id, delivery_id)
        if delivery is None:
            raise NotFound(f"delivery {delivery_id!r} not found", code="delivery_not_found")
        return delivery

    async def redeliver(
        self, session: AsyncSession, project: Project, webhook_id: str, delivery_id: str
    ) -> WebhookDelivery:
        """Send a finished delivery again, with the same delivery id (receivers may de-duplicate)."""
        endpoint = await self.get_webhook(session, project, webhook_id)
        delivery = await self.get_delivery(session, project, webhook_id, delivery_id)
        if delivery.status == "pending":
            raise Conflict(
                "the delivery is still pending; it will be attempted again", code="delivery_pending"
            )
        if not endpoint.enabled:
            raise Conflict("the webhook is disabled; enable it first", code="webhook_disabled")
        now = utcnow()
        delivery.status = "pending"
        delivery.next_attempt_at = now
        delivery.retry_until = now + self.policy.retry_period
        delivery.locked_until = None
        delivery.delivered_at = None
        delivery.updated_at = now
        await session.flush()
        await self._enqueue(session, endpoint.id)
        return delivery

    # -- the worker side ---------------------------------------------------------------------

    async def deliver_endpoint(
        self,
        batches: DeliveryBatches,
        sender: WebhookSender,
        endpoint_id: str,
        *,
        rounds: int = 20,
    ) -> Reschedule | None:
        """Drain one endpoint's queues (one per room) in rounds, until they are empty or must wait.

        A round leases the due heads of every queue, sends them (the rooms side by side, each
        room's events one at a time and in order, stopping at a room's first failure), and
        records every outcome. The leasing and the recording are group-committed with the other
        webhooks' jobs doing the same at that moment (:class:`~conclave.kit.coalesce.Coalescer`):
        an event for ten webhooks costs a few statements, not a few per webhook, while each
        webhook still sends on its own, so a slow receiver holds up only its own job. Returns
        ``Reschedule`` when every remaining head waits for its backoff (or another worker holds
        it), so the job comes back then; ``None`` when nothing is left.
        """
        job = self.jobs.current_job()
        for _ in range(rounds):
            taken = await batches.take((endpoint_id, job))
            if not isinstance(taken, _Round):
                return taken
            rooms_at_once = asyncio.Semaphore(ROOMS_AT_ONCE)
            outcomes = await asyncio.gather(
                *(self._send_in_order(sender, taken, queue, rooms_at_once) for queue in taken.queues)
            )
            sent = [outcome for queue in outcomes for outcome in queue]
            sent_ids = {attempt.delivery_id for attempt, _ in sent}
            unsent = [a.delivery_id for q in taken.queues for a in q if a.delivery_id not in sent_ids]
            # Events that arrived during this round queued a job of their own (this one is
            # running, not queued), so after a complete round there is nothing left to look at.
            finished = taken.everything and all(result.ok for _, result in sent)
            failure = await batches.record(_Outcome(taken, sent, unsent, job if finished else None))
            if failure is not None:
                raise failure
            if finished:
                return None
        return Reschedule(utcnow())  # let other endpoints have the worker; continue right after

    @staticmethod
    async def _send_in_order(
        sender: WebhookSender, taken: _Round, queue: list[_Attempt], rooms_at_once: asyncio.Semaphore
    ) -> list[tuple[_Attempt, SendResult]]:
        outcomes: list[tuple[_Attempt, SendResult]] = []
        async with rooms_at_once:
            for attempt in queue:
                result = await sender.send(
                    url=taken.url,
                    secret=taken.secret,
                    delivery_id=attempt.delivery_id,
                    event_type=attempt.event_type,
                    body=attempt.body,
                )
                outcomes.append((attempt, result))
                if not result.ok:
                    break  # later events of this room must not overtake this one
        return outcomes

    async def take_rounds(
        self, session: AsyncSession, requests: list[tuple[str, RunningJob | None]]
    ) -> list[_Round | Reschedule | None]:
        """One round per endpoint, for several endpoints in a few statements (see ``DeliveryBatches``).

        An endpoint with nothing to send ends its job here. An endpoint asked for twice in one
        batch (only after a dead worker's job was taken up again) is served once; the other
        request looks again shortly.
        """
        ids = list(dict.fromkeys(endpoint_id for endpoint_id, _ in requests))
        taken = await self._take_heads(session, ids)
        results: list[_Round | Reschedule | None] = []
        served: set[str] = set()
        done: list[RunningJob] = []
        for endpoint_id, job in requests:
            if endpoint_id in served:
                results.append(Reschedule(utcnow() + LEASE_RECHECK))
                continue
            served.add(endpoint_id)
            results.append(taken[endpoint_id])
            if taken[endpoint_id] is None and job is not None:
                done.append(job)
        await self.jobs.finish_jobs(session, done)
        return results

    async def _take_heads(
        self, session: AsyncSession, endpoint_ids: list[str]
    ) -> dict[str, _Round | Reschedule | None]:
        """Lease, for each room of each endpoint, the longest run of due heads that no backoff or
        lease holds back: the endpoints, their heads and the lease in one statement each."""
        repository = DeliveryQueueRepository(session)
        endpoints = await repository.endpoints(endpoint_ids)
        results: dict[str, _Round | Reschedule | None] = dict.fromkeys(endpoint_ids)
        active = [e for e in endpoint_ids if e in endpoints and endpoints[e].enabled]
        # A disabled endpoint's pending rows wait; enabling the endpoint queues them again.
        heads = await repository.heads(active, per_queue=HEADS_PER_QUEUE, limit=HEADS_PER_ROUND)
        by_endpoint: dict[str, list[QueuedDelivery]] = {}
        for head in heads:
            by_endpoint.setdefault(head.endpoint_id, []).append(head)
        now = utcnow()
        plans: dict[str, _Plan] = {}
        for endpoint_id, endpoint_heads in by_endpoint.items():
            plan = self._plan(endpoint_heads, now)
            if plan.queues:
                plans[endpoint_id] = plan
            else:
                assert plan.wake is not None
                results[endpoint_id] = Reschedule(plan.wake)
        if not plans:
            return results
        leased = await repository.lease(
            [h.id for plan in plans.values() for q in plan.queues.values() for h in q],
            now,
            now + self.policy.lease,
        )
        stray: list[str] = []
        for endpoint_id, plan in plans.items():
            endpoint = endpoints[endpoint_id]
            taken: list[list[_Attempt]] = []
            handed_back: list[str] = []
            for queue in plan.queues.values():
                run: list[_Attempt] = []
                for position, head in enumerate(queue):
                    if head.id not in leased:
                        # Another worker took this one: what follows it in the room must wait too.
                        handed_back.extend(h.id for h in queue[position:] if h.id in leased)
                        break
                    run.append(_Attempt(head.id, head.event_type, head.body.encode(), head.attempts))
                if run:
                    taken.append(run)
            stray.extend(handed_back)
            if not taken:
                results[endpoint_id] = Reschedule(now + LEASE_RECHECK)
                continue
            truncated = len(by_endpoint[endpoint_id]) == HEADS_PER_ROUND or any(
                len(q) == HEADS_PER_QUEUE for q in plan.queues.values()
            )
            results[endpoint_id] = _Round(
                endpoint_id=endpoint_id,
                url=endpoint.url,
                secret=self.box.decrypt(endpoint.secret_encrypted),
                endpoint_failing=endpoint.consecutive_failures > 0,
                queues=taken,
                everything=not (plan.held or handed_back or truncated),
            )
        if stray:
            await repository.release(stray)
        return results

    def _plan(self, heads: list[QueuedDelivery], now: datetime) -> _Plan:
        """Which heads of one endpoint to take: per room, those before the first that must wait."""
        plan = _Plan()
        for head in heads:
            if head.ordering_key in plan.held:
                continue
            wait = head.waits_until(now)
            if wait is not None:
                if head.next_attempt_at > now:
                    # Coalesce the wake-ups of many rooms in backoff: one round per backoff step.
                    wait = max(wait, now + timedelta(seconds=self.policy.backoff_base))
                else:
                    # Another job is sending this room right now; it finishes within moments,
                    # and rows that arrived meanwhile are this job's to send.
                    wait = min(wait, now + LEASE_RECHECK)
                plan.held.add(head.ordering_key)
                plan.wake = wait if plan.wake is None else min(plan.wake, wait)
                continue
            plan.queues.setdefault(head.ordering_key, []).append(head)
        return plan

    async def record_rounds(self, session: AsyncSession, outcomes: list[_Outcome]) -> None:
        """Store rounds' outcomes: every success in one statement, failures one by one (rare)."""
        repository = DeliveryQueueRepository(session)
        now = utcnow()
        delivered = [
            {
                "b_id": attempt.delivery_id,
                "status": "delivered",
                "attempts": attempt.attempts + 1,
                "last_attempt_at": now,
                "locked_until": None,
                "last_status_code": result.status_code,
                "last_response": result.response,
                "last_error": None,
                "delivered_at": now,
                "updated_at": now,
            }
            for outcome in outcomes
            for attempt, result in outcome.sent
            if result.ok
        ]
        if delivered:
            # Rows of an endpoint deleted meanwhile are simply gone; the update skips them.
            await repository.mark_delivered(delivered)
        for outcome in outcomes:
            if outcome.taken.endpoint_failing and any(result.ok for _, result in outcome.sent):
                await repository.reset_failures(outcome.taken.endpoint_id)
        unsent = [delivery_id for outcome in outcomes for delivery_id in outcome.unsent]
        if unsent:
            await repository.release(unsent)
        for outcome in outcomes:
            for attempt, result in outcome.sent:
                if not result.ok:
                    await self._record_failure(session, attempt, result, now)
        await self.jobs.finish_jobs(session, [o.finishes for o in outcomes if o.finishes is not None])

    async def _record_failure(
        self, session: AsyncSession, attempt: _Attempt, result: SendResult, now: datetime
    ) -> None:
        repository = DeliveryQueueRepository(session)
        delivery = await repository.delivery(attempt.delivery_id)
        if delivery is None:
            return  # the endpoint was deleted meanwhile
        endpoint = await repository.endpoint(delivery.endpoint_id)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.locked_until = None
        delivery.last_status_code = result.status_code
        delivery.last_response = result.response
        delivery.last_error = result.error
        delivery.updated_at = now
        self._settle(delivery, endpoint, result, now)
        await session.flush()

    def _settle(
        self, delivery: WebhookDelivery, endpoint: WebhookEndpoint | None, result: SendResult, now: datetime
    ) -> datetime | None:
        if result.ok:
            delivery.status = "delivered"
            delivery.delivered_at = now
            if endpoint is not None and endpoint.consecutive_failures:
                endpoint.consecutive_failures = 0
            return None
        if result.status_code == 410:
            delivery.status = "failed"
            delivery.last_error = "the receiver answered 410 Gone; the webhook was disabled"
            if endpoint is not None:
                self._disable(endpoint, "the receiver answered 410 Gone")
            return None
        if result.error is None:
            delivery.last_error = f"the receiver answered HTTP {result.status_code}"
        if not result.refused:
            delay = backoff_delay(delivery.attempts, self.policy.backoff_base, self.policy.backoff_cap)
            retry_at = now + timedelta(seconds=delay)
            if retry_at <= delivery.retry_until:
                delivery.next_attempt_at = retry_at
                return retry_at
            delivery.last_error = f"{delivery.last_error} (gave up after {delivery.attempts} attempts)"
        delivery.status = "failed"
        if endpoint is not None:
            endpoint.consecutive_failures += 1
            limit = self.policy.disable_after_failures
            if limit and endpoint.consecutive_failures >= limit and endpoint.enabled:
                self._disable(endpoint, f"{endpoint.consecutive_failures} consecutive deliveries failed")
                log.warning("webhook %s disabled after %d failed deliveries", endpoint.id, limit)
        return None

"""Durable jobs: a table, a queue to enqueue into, and a runner that claims and runs due jobs.

Jobs are enqueued inside the business transaction (so they exist exactly when the state change
does) and run at least once: a runner claims due rows, holds a lease it renews while the
handler runs, and deletes the row on success. A failed run is retried with exponential backoff
and jitter up to ``job_max_attempts``; a worker that dies mid-job loses its lease and the job is
claimed again. On PostgreSQL several runners (``conclave worker`` processes) claim with
``FOR UPDATE SKIP LOCKED``; on SQLite the claim is one atomic ``UPDATE … RETURNING``.

A job may carry a ``key``: at most one *queued* job exists per key (enqueueing again is a no-op
while one waits), which lets a domain keep one worker loop per ordered stream — webhooks use it
for their per-(endpoint, room) FIFO queues.

Handlers are plain ``async (payload) -> Reschedule | None`` functions registered by name
(``"<entity>.<verb>"``); they open their own transactions, so a handler that talks to the
network never holds a database connection while it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Index,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    or_,
    select,
    text,
)
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, aliased, mapped_column
from sqlalchemy.sql.dml import Insert

from conclave.kit.db import Base, IdMixin, table_of
from conclave.kit.ids import new_id
from conclave.kit.time import utcnow
from conclave.kit.transaction import on_commit

log = logging.getLogger(__name__)

JOB_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_QUEUED = text("status = 'queued'")


class Job(IdMixin, Base):
    __tablename__ = "jobs"

    name: Mapped[str] = mapped_column(String(100))
    key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_jobs_status_run_at", "status", "run_at"),
        Index("uq_jobs_queued_key", "key", unique=True, sqlite_where=_QUEUED, postgresql_where=_QUEUED),
        CheckConstraint("status IN ('queued', 'running', 'failed')", name="status"),
    )


@dataclass(frozen=True)
class Reschedule:
    """Returned by a handler with more to do later (e.g. a webhook waiting out its backoff).

    Not a failure: the attempt counter is unchanged.
    """

    at: datetime


JobHandler = Callable[[dict[str, Any]], Awaitable[Reschedule | None]]


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    name: str
    key: str | None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


@dataclass(eq=False)
class RunningJob:
    """The job a handler runs for, as seen from inside the handler (see ``JobQueue.finish_jobs``)."""

    job: ClaimedJob
    worker_id: str
    finished: bool = False


_running: ContextVar[RunningJob | None] = ContextVar("conclave_running_job", default=None)

# The runner's statements, built once: every job claims, and most finish, through them; building
# the claim (with its subqueries) cost more than running it. An update's parameters may not be
# named after its columns, hence the ``b_`` prefix.
_JOBS = table_of(Job)
_FINISH = (
    delete(_JOBS)
    .where(_JOBS.c.id == bindparam("b_id"), _JOBS.c.locked_by == bindparam("b_worker"))
    .where(_JOBS.c.status == "running")
)
_NEXT_DUE = select(func.min(Job.run_at)).where(
    Job.status == "queued", Job.name.in_(bindparam("b_names", expanding=True))
)


def _build_claim(*, skip_locked: bool) -> Any:
    now = bindparam("b_now", type_=Job.run_at.type)
    due = or_(
        and_(Job.status == "queued", Job.run_at <= now), and_(Job.status == "running", Job.locked_until < now)
    )
    # Only jobs this process can run: during a rolling upgrade an older worker leaves newer job
    # kinds to the workers that know them.
    known = Job.name.in_(bindparam("b_names", expanding=True))
    # One job per key at a time: a key names one piece of work, and a job queued while its
    # predecessor runs then takes over all that piled up meanwhile, in one go.
    other = aliased(Job)
    key_free = or_(
        Job.key.is_(None),
        ~exists().where(
            other.key == Job.key,
            other.id != Job.id,
            other.status == "running",
            other.locked_until >= now,
        ),
    )
    candidates = select(Job.id).where(due, known, key_free).order_by(Job.run_at).limit(bindparam("b_limit"))
    if skip_locked:
        candidates = candidates.with_for_update(skip_locked=True)
    return (
        sql_update(Job)
        .where(Job.id.in_(candidates.scalar_subquery()))
        .values(
            status="running",
            locked_by=bindparam("b_worker"),
            locked_until=bindparam("b_until", type_=Job.locked_until.type),
            # A lease that expired means the worker died mid-run: that counts as an attempt, so a
            # job that kills its worker every time eventually stops being retried.
            attempts=case((Job.status == "running", Job.attempts + 1), else_=Job.attempts),
            updated_at=now,
        )
        .returning(Job.id, Job.name, Job.key, Job.payload, Job.attempts, Job.max_attempts)
        .execution_options(synchronize_session=False)
    )


# By ``skip_locked``: PostgreSQL skips rows another worker is claiming; SQLite has one writer.
_CLAIM = {skip_locked: _build_claim(skip_locked=skip_locked) for skip_locked in (False, True)}


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with "equal jitter": between half and all of ``min(cap, base·2ⁿ⁻¹)``.

    Jitter spreads the retries of many failing jobs so a recovering receiver is not stampeded.
    """
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


class JobQueue:
    """Registry of handlers plus ``enqueue``; shared by the API process and its runners."""

    def __init__(self, *, max_attempts: int = 10) -> None:
        self.max_attempts = max_attempts
        self._handlers: dict[str, JobHandler] = {}
        self._listeners: list[asyncio.Event] = []
        self._shutdown: list[Callable[[], Awaitable[None]]] = []
        self._statements: dict[tuple[str, bool], Insert] = {}

    def register(self, name: str, handler: JobHandler) -> None:
        if not JOB_NAME.match(name):
            raise ValueError(f"job names are '<entity>.<verb>', got {name!r}")
        self._handlers[name] = handler

    def names(self) -> list[str]:
        return sorted(self._handlers)

    def handler(self, name: str) -> JobHandler | None:
        return self._handlers.get(name)

    def on_shutdown(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Resources the handlers hold (e.g. an HTTP client) are released when a runner stops."""
        self._shutdown.append(callback)

    async def shutdown(self) -> None:
        for callback in self._shutdown:
            try:
                await callback()
            except Exception:
                log.exception("job resource shutdown failed")

    @staticmethod
    def current_job() -> RunningJob | None:
        """The job whose handler is running in this task (None outside a handler)."""
        return _running.get()

    async def finish_jobs(self, session: AsyncSession, jobs: Sequence[RunningJob]) -> None:
        """Delete running jobs' rows in a handler's own last transaction.

        Why: a handler that knows it is done writes its outcome in a transaction anyway; ending
        the job there saves the runner a transaction of its own per job, which is most of the
        cost of a short job. Each handler must then return None. Once the transaction commits,
        the runner leaves those jobs alone; if it rolls back, the runner settles them as usual.
        """
        if not jobs:
            return
        await session.execute(_FINISH, [{"b_id": job.job.id, "b_worker": job.worker_id} for job in jobs])

        def finished() -> None:
            for job in jobs:
                job.finished = True

        on_commit(session, finished)

    async def enqueue(
        self,
        session: AsyncSession,
        name: str,
        payload: dict[str, Any],
        *,
        run_at: datetime | None = None,
        key: str | None = None,
    ) -> None:
        """Add a job in the caller's transaction; runners in this process are woken after commit.

        With a ``key``, nothing is added while a job with that key is already queued; that job's
        ``run_at`` moves earlier if this call asked for an earlier time. A job with a key does not
        start while another job with that key runs (unless that one's worker died).
        """
        if key is None:
            await self._insert(session, name, [(payload, None)], run_at, upsert=False)
        else:
            await self.enqueue_keyed(session, name, {key: payload}, run_at=run_at)

    async def enqueue_keyed(
        self,
        session: AsyncSession,
        name: str,
        jobs: dict[str, dict[str, Any]],
        *,
        run_at: datetime | None = None,
    ) -> None:
        """``enqueue`` for several keyed jobs at once (``{key: payload}``), in one statement."""
        if jobs:
            await self._insert(session, name, list((p, k) for k, p in jobs.items()), run_at, upsert=True)

    async def _insert(
        self,
        session: AsyncSession,
        name: str,
        jobs: list[tuple[dict[str, Any], str | None]],
        run_at: datetime | None,
        *,
        upsert: bool,
    ) -> None:
        if name not in self._handlers:
            raise ValueError(f"no job handler registered for {name!r}")
        now = utcnow()
        rows = [
            {
                "id": new_id(),
                "name": name,
                "key": key,
                "payload": payload,
                "status": "queued",
                "run_at": run_at or now,
                "attempts": 0,
                "max_attempts": self.max_attempts,
                "created_at": now,
                "updated_at": now,
            }
            for payload, key in jobs
        ]
        await session.execute(self._insert_statement(session.get_bind().dialect.name, upsert), rows)
        on_commit(session, self.notify)

    def _insert_statement(self, dialect: str, upsert: bool) -> Insert:
        """Built once per dialect and run as an executemany: a statement whose ``VALUES`` list grew
        with the rows (and whose ``excluded`` alias was new each time) was compiled on every call,
        which cost more than the insert itself on a transaction's critical path."""
        statement = self._statements.get((dialect, upsert))
        if statement is None:
            table = _JOBS
            insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
            statement = insert_(table)
            if upsert:
                # A job with this key already waits: it does the work, but no later than we asked.
                earliest = (func.least if dialect == "postgresql" else func.min)(
                    table.c.run_at, statement.excluded.run_at
                )
                statement = statement.on_conflict_do_update(
                    index_elements=["key"], index_where=_QUEUED, set_={"run_at": earliest}
                )
            self._statements[(dialect, upsert)] = statement
        return statement

    def listen(self) -> asyncio.Event:
        event = asyncio.Event()
        self._listeners.append(event)
        return event

    def unlisten(self, event: asyncio.Event) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(event)

    def notify(self) -> None:
        for event in self._listeners:
            event.set()


class JobRunner:
    """Claims due jobs and runs them concurrently; start/stop it, or call ``run_due`` directly."""

    def __init__(
        self,
        queue: JobQueue,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        concurrency: int = 32,
        poll_interval: float = 1.0,
        lease_seconds: float = 60.0,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
        worker_id: str | None = None,
    ) -> None:
        self.queue = queue
        self.sessionmaker = sessionmaker
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.lease = timedelta(seconds=lease_seconds)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{new_id()[-8:]}"
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._signal: asyncio.Event | None = None
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._loop_task is not None and not self._loop_task.done()

    async def start(self) -> None:
        if self.running:
            return
        self._stopping = False
        self._signal = self.queue.listen()
        self._loop_task = asyncio.create_task(self._loop(), name=f"job-runner {self.worker_id}")

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Stop claiming, let running jobs finish for a moment, then hand the rest back."""
        self._stopping = True
        if self._signal is not None:
            self._signal.set()
        if self._loop_task is not None:
            await self._loop_task
            self._loop_task = None
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._signal is not None:
            self.queue.unlisten(self._signal)
            self._signal = None
        await self.queue.shutdown()

    async def run_due(self) -> int:
        """Claim and run every job due now, once, and wait for them; returns how many ran."""
        ran = 0
        while True:
            claimed = await self.claim(self.concurrency)
            if not claimed:
                return ran
            await asyncio.gather(*(self._execute(job) for job in claimed))
            ran += len(claimed)

    async def _loop(self) -> None:
        assert self._signal is not None
        while not self._stopping:
            self._signal.clear()
            free = self.concurrency - len(self._tasks)
            claimed: list[ClaimedJob] = []
            if free > 0:
                try:
                    claimed = await self.claim(free)
                except Exception:
                    # The database may be briefly unreachable; keep the runner alive and retry.
                    log.exception("claiming jobs failed")
            for job in claimed:
                task = asyncio.create_task(self._execute(job), name=f"job {job.name} {job.id}")
                self._tasks.add(task)
                task.add_done_callback(self._task_done)
            if claimed and len(claimed) == free:
                continue
            delay = self.poll_interval
            if not claimed:
                with contextlib.suppress(Exception):
                    delay = await self._until_next_due(delay)
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._signal.wait(), timeout=delay)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._signal is not None:
            self._signal.set()

    async def _until_next_due(self, ceiling: float) -> float:
        async with self.sessionmaker() as session:
            found = await session.execute(_NEXT_DUE, {"b_names": self.queue.names()})
            next_run: datetime | None = found.scalar_one_or_none()
        if next_run is None:
            return ceiling
        return max(0.0, min(ceiling, (next_run - utcnow()).total_seconds()))

    async def claim(self, limit: int) -> list[ClaimedJob]:
        """Take up to ``limit`` due jobs (or jobs whose worker's lease expired) for this worker."""
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            statement = _CLAIM[session.get_bind().dialect.name == "postgresql"]
            found = await session.execute(
                statement,
                {
                    "b_now": now,
                    "b_names": self.queue.names(),
                    "b_limit": limit,
                    "b_worker": self.worker_id,
                    "b_until": now + self.lease,
                },
            )
            rows = found.all()
        return [ClaimedJob(*row) for row in rows]

    async def _execute(self, job: ClaimedJob) -> None:
        handler = self.queue.handler(job.name)
        if handler is None:
            await self._fail(job, f"no handler registered for job {job.name!r}", final=True)
            return
        if job.attempts >= job.max_attempts:
            await self._fail(job, "gave up: the job's worker stopped during every attempt", final=True)
            return
        heartbeat = asyncio.create_task(self._heartbeat(job))
        running = RunningJob(job, self.worker_id)
        context = _running.set(running)
        try:
            result = await handler(job.payload)
        except asyncio.CancelledError:
            # Stopping: hand the job back so the next runner starts it at once.
            await self._requeue(job, utcnow(), attempts=job.attempts)
            raise
        except Exception as exc:
            log.exception("job %s %s failed", job.name, job.id)
            attempts = job.attempts + 1
            if attempts >= job.max_attempts:
                await self._fail(job, f"{type(exc).__name__}: {exc}", final=True, attempts=attempts)
            else:
                delay = backoff_delay(attempts, self.backoff_base, self.backoff_cap)
                await self._requeue(
                    job, utcnow() + timedelta(seconds=delay), attempts=attempts, error=f"{exc!r}"
                )
        else:
            if isinstance(result, Reschedule):
                await self._requeue(job, result.at, attempts=job.attempts)
            elif not running.finished:
                await self._done(job)
        finally:
            _running.reset(context)
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self, job: ClaimedJob) -> None:
        """Renew the lease while the handler runs, so only a dead worker's jobs are re-claimed."""
        interval = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.sessionmaker() as session, session.begin():
                    await session.execute(
                        sql_update(Job)
                        .where(Job.id == job.id, Job.locked_by == self.worker_id)
                        .values(locked_until=utcnow() + self.lease)
                        .execution_options(synchronize_session=False)
                    )
            except Exception:
                log.exception("renewing the lease of job %s failed", job.id)

    def _mine(self, job: ClaimedJob) -> Any:
        return and_(Job.id == job.id, Job.status == "running", Job.locked_by == self.worker_id)

    async def _done(self, job: ClaimedJob) -> None:
        async with self.sessionmaker() as session, session.begin():
            await session.execute(_FINISH, {"b_id": job.id, "b_worker": self.worker_id})

    async def _fail(self, job: ClaimedJob, error: str, *, final: bool, attempts: int | None = None) -> None:
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                sql_update(Job)
                .where(self._mine(job))
                .values(
                    status="failed",
                    attempts=job.attempts if attempts is None else attempts,
                    locked_by=None,
                    locked_until=None,
                    last_error=error[:4000],
                    updated_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
        log.error("job %s %s failed for good: %s", job.name, job.id, error)

    async def _requeue(
        self, job: ClaimedJob, run_at: datetime, *, attempts: int, error: str | None = None
    ) -> None:
        """Put the job back in the queue; if its key already has a queued job, merge into that one."""
        for _ in range(3):
            try:
                async with self.sessionmaker() as session, session.begin():
                    if job.key is not None:
                        waiting = (
                            await session.execute(
                                select(Job.id, Job.run_at).where(Job.key == job.key, Job.status == "queued")
                            )
                        ).first()
                        if waiting is not None:
                            await session.execute(
                                sql_update(Job)
                                .where(Job.id == waiting.id)
                                .values(run_at=min(waiting.run_at, run_at))
                                .execution_options(synchronize_session=False)
                            )
                            await session.execute(
                                delete(Job)
                                .where(self._mine(job))
                                .execution_options(synchronize_session=False)
                            )
                            self.queue.notify()
                            return
                    await session.execute(
                        sql_update(Job)
                        .where(self._mine(job))
                        .values(
                            status="queued",
                            run_at=run_at,
                            attempts=attempts,
                            locked_by=None,
                            locked_until=None,
                            last_error=error[:4000] if error else None,
                            updated_at=utcnow(),
                        )
                        .execution_options(synchronize_session=False)
                    )
                self.queue.notify()
                return
            except IntegrityError:
                # Another transaction queued the same key between our check and our update.
                continue
        log.error(
            "could not requeue job %s %s; its lease will expire and it will be re-claimed", job.name, job.id
        )

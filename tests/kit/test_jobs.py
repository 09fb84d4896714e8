"""The generic job runner on both databases: run, retry with backoff, give up, lease recovery, keys."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select, update

from conclave.kit.events import InProcessEventBus
from conclave.kit.ids import new_id
from conclave.kit.jobs import Job, JobQueue, JobRunner, Reschedule, backoff_delay
from conclave.kit.time import utcnow
from conclave.kit.transaction import transaction


def make_queue(name: str, handler: Any) -> JobQueue:
    queue = JobQueue(max_attempts=3)
    queue.register(name, handler)
    return queue


def runner_for(app: FastAPI, queue: JobQueue, **options: Any) -> JobRunner:
    return JobRunner(
        queue, app.state.sessionmaker, poll_interval=0.05, backoff_base=0.01, backoff_cap=0.02, **options
    )


async def jobs_named(app: FastAPI, name: str) -> list[Job]:
    async with app.state.sessionmaker() as session:
        return list((await session.execute(select(Job).where(Job.name == name))).scalars().all())


async def test_enqueued_job_runs_once_and_is_removed(app: FastAPI) -> None:
    name = f"test{new_id()[:6]}.run"
    seen: list[dict[str, Any]] = []

    async def handler(payload: dict[str, Any]) -> None:
        seen.append(payload)

    queue = make_queue(name, handler)
    async with transaction(app.state.sessionmaker, InProcessEventBus()) as session:
        await queue.enqueue(session, name, {"n": 1})
    runner = runner_for(app, queue)
    assert await runner.run_due() == 1
    assert seen == [{"n": 1}]
    assert await jobs_named(app, name) == []


async def test_handler_finishes_its_job_in_its_own_transaction(app: FastAPI) -> None:
    name = f"test{new_id()[:6]}.finish"
    queue = JobQueue(max_attempts=3)

    async def handler(payload: dict[str, Any]) -> None:
        try:
            async with transaction(app.state.sessionmaker, InProcessEventBus()) as session:
                running = queue.current_job()
                assert running is not None
                await queue.finish_jobs(session, [running])
                if payload["roll_back"]:
                    raise RuntimeError("the handler's transaction fails")
        except RuntimeError:
            pass  # the handler gives up on that transaction but reports success

    queue.register(name, handler)
    runner = runner_for(app, queue)
    completions: list[str] = []
    complete = runner._done

    async def counting_done(job: Any) -> None:
        completions.append(job.payload["label"])
        await complete(job)

    runner._done = counting_done  # type: ignore[method-assign]
    async with transaction(app.state.sessionmaker, InProcessEventBus()) as session:
        assert queue.current_job() is None  # outside a job
        await queue.enqueue(session, name, {"roll_back": False, "label": "committed"})
        await queue.enqueue(session, name, {"roll_back": True, "label": "rolled back"})
    assert await runner.run_due() == 2
    # The committed finish ended its job; the rolled-back one left it to the runner.
    assert completions == ["rolled back"]
    assert await jobs_named(app, name) == []


async def test_rolled_back_enqueue_leaves_nothing(app: FastAPI) -> None:
    name = f"test{new_id()[:6]}.rollback"
    queue = make_queue(name, lambda payload: asyncio.sleep(0))
    try:
        async with transaction(app.state.sessionmaker, InProcessEventBus()) as session:
            await queue.enqueue(session, name, {})
            raise RuntimeError("business rule failed")
    except RuntimeError:
        pass
    assert await jobs_named(app, name) == []


async def test_failures_retry_then_give_up(app: FastAPI) -> None:
    name = f"test{new_id()[:6]}.fail"
    calls = 0

    async def handler(payload: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("receiver exploded")

    queue = make_queue(name, handler)
    async with transaction(app.state.sessionmaker, InProcessEventBus()) as session:
        await queue.enqueue(session, name, {})
    runner = runner_for(app, queue)
    await runner.start()
    try:
        for _ in range(200):
            [job] = await jobs_named(app, name)
            if job.status == "failed":
                break
            await asyncio.sleep(0.05)
    finally:
        await runner.stop()
    [job] = await jobs_named(app, name)
    assert (job.status, job.attempts, calls) == ("failed", 3, 3)
    assert "receiver exploded" in (job.last_error or "")


async def test_expired_lease_is_reclaimed(app: FastAPI) -> None:
    name = f"test{new_id()[:6]}.lease"
    seen: list[str] = []

    async def handler(payload: dict[str, Any]) -> None:
        seen.append("ran")

    queue = make_queue(name, handler)
    async with transaction(app.state.sessionmaker, InProcessEventBus()) as session:
        await queue.enqueue(session, name, {})
    dead = runner_for(app, queue, worker_id="dead-worker", lease_seconds=30)
    assert len(await dead.claim(10)) == 1  # claimed, then the worker "dies"
    alive = runner_for(app, queue, worker_id="alive-worker")
    assert await alive.run_due() == 0  # the lease still holds
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Job).where(Job.name == name).values(locked_until=utcnow() - timedelta(seconds=1))
        )
    assert await alive.run_due() == 1
    assert seen == ["ran"]


async def test_one_job_per_key_runs_at_a_time(app: FastAPI) -> None:
    name = f"test{new_id()[:6]}.serial"
    queue = make_queue(name, lambda payload: asyncio.sleep(0))
    key = f"endpoint-{new_id()}"

    async def enqueue(payload: dict[str, Any], job_key: str) -> None:
        async with transaction(app.state.sessionmaker, InProcessEventBus()) as session:
            await queue.enqueue(session, name, payload, key=job_key)

    await enqueue({"n": 1}, key)
    first = runner_for(app, queue, worker_id="first-worker", lease_seconds=30)
    assert [job.payload for job in await first.claim(10)] == [{"n": 1}]
    await enqueue({"n": 2}, key)  # queued behind the running one
    await enqueue({"n": 3}, f"{key}-other")  # another key is not held back
    second = runner_for(app, queue, worker_id="second-worker")
    assert [job.payload for job in await second.claim(10)] == [{"n": 3}]
    assert await second.claim(10) == []
    # Once the running job's worker is gone (its lease expired), the key is free again.
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.name == name, Job.locked_by == "first-worker")
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
    # The dead worker's job is taken up again together with its successor: keyed handlers must
    # stay safe when two runs overlap (webhook deliveries are leased row by row).
    claimed = sorted(job.payload["n"] for job in await second.claim(10))
    assert claimed == [1, 2]


async def test_key_keeps_one_queued_job_and_reschedule(app: FastAPI) -> None:
    name = f"test{new_id()[:6]}.keyed"
    runs = 0

    async def handler(payload: dict[str, Any]) -> Reschedule | None:
        nonlocal runs
        runs += 1
        return Reschedule(utcnow() + timedelta(hours=1)) if runs == 1 else None

    queue = make_queue(name, handler)
    later = utcnow() + timedelta(hours=2)
    for run_at in (later, None):
        async with transaction(app.state.sessionmaker, InProcessEventBus()) as session:
            await queue.enqueue(session, name, {}, key="stream-1", run_at=run_at)
    [job] = await jobs_named(app, name)
    assert job.run_at <= utcnow()  # the second enqueue moved it earlier
    runner = runner_for(app, queue)
    assert await runner.run_due() == 1
    [job] = await jobs_named(app, name)
    assert (job.status, job.attempts) == ("queued", 0) and job.run_at > utcnow()


def test_backoff_grows_with_jitter_under_a_cap() -> None:
    for attempt in range(1, 12):
        delay = backoff_delay(attempt, 1.0, 60.0)
        ceiling = min(60.0, 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling

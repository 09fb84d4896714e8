"""Webhook delivery through the durable outbox, against direct HTTP posts, in one run.

What it measures, with 1 and 10 real HTTP receivers on loopback:

- **throughput** (a burst of events from concurrent producers): events/s fully delivered;
- **latency** (events paced at a steady rate the server can sustain): p50/p99 from the event's
  timestamp, taken when the service emits it, to its receipt.

Each event is a state change: it is emitted in its own transaction, where the bus hooks write
its room-log row (and, for the outbox, its delivery rows and job), as a request would.

- **outbox** -- the production path: the in-process job runner is woken after commit, leases
  the queue heads and posts the signed requests, then records the outcomes.
- **direct, after commit** (the baseline of the ratio) -- the same state change in a project
  with no endpoint, then the same process posts the same signed payload to every receiver at
  once with one shared httpx client: webhooks without the outbox (no delivery rows, no
  retries, lost if the process dies).
- **direct, no database** -- the posts alone, printed for reference.

Targets: outbox >= 0.5 of the baseline's events/s, and outbox p99 < 250 ms when paced.

    .venv/bin/python benchmarks/webhooks.py [--events 500] [--producers 8] [--rate 100] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from conclave.app import create_app
from conclave.config import Settings
from conclave.kit.events import DomainEvent, emit
from conclave.kit.migrate import upgrade
from conclave.kit.transaction import transaction
from conclave.webhooks.sender import WebhookSender

ADMIN_TOKEN = "bench-admin-token"
ROOMS = 50
WAIT_TIMEOUT_S = 120.0


@dataclass
class Sink:
    """A minimal HTTP/1.1 keep-alive receiver recording when each event arrived."""

    latencies: list[float] = field(default_factory=list)
    received: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0
    port: int = 0
    server: asyncio.Server | None = None

    async def start(self) -> Sink:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def reset(self, expected: int) -> None:
        self.latencies, self.received, self.expected = [], 0, expected
        self.done = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                body = await reader.readexactly(length)
                now = time.time()
                sent = datetime.fromisoformat(json.loads(body)["timestamp"].replace("Z", "+00:00"))
                self.latencies.append(now - sent.timestamp())
                self.received += 1
                if self.received >= self.expected:
                    self.done.set()
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            # Cancelled: the run is over and asyncio.run is cancelling what is left. Returning
            # normally keeps Python 3.11's stream callback from logging the cancellation.
            pass
        finally:
            writer.close()


@dataclass(frozen=True)
class Result:
    label: str
    events: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def produce(count: int, producers: int, make_one: object) -> None:
    """``producers`` concurrent loops share ``count`` events, as concurrent requests would."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)

    async def loop() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            await make_one(index)  # type: ignore[operator]

    await asyncio.gather(*(loop() for _ in range(producers)))


async def wait_all(sinks: list[Sink]) -> None:
    await asyncio.wait_for(asyncio.gather(*(sink.done.wait() for sink in sinks)), WAIT_TIMEOUT_S)


@dataclass
class Bench:
    """One in-process Conclave (the production app, its bus hooks and its job runner) to emit into."""

    runtime: Any
    hooked_project: str  # has the sinks as webhook endpoints: its events go through the outbox
    plain_project: str  # has no endpoint: its events are the same state change, with no outbox rows
    rooms: list[str]

    async def emit(self, project_id: str, index: int) -> DomainEvent:
        """One state change: an event in its own transaction, as a request or the realtime plane does."""
        event = DomainEvent(
            type="room.updated", project_id=project_id, room_id=self.rooms[index % ROOMS], data={}
        )
        async with transaction(self.runtime.sessionmaker, self.runtime.bus) as session:
            emit(session, event)
        return event


async def open_bench(database_url: str, data_dir: Path, sinks: list[Sink]) -> Bench:
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        master_key="bench-master-key-0123456789",  # type: ignore[arg-type]
        admin_token=ADMIN_TOKEN,  # type: ignore[arg-type]
        worker_poll_interval_seconds=0.5,
    )
    app = create_app(settings)
    runtime = app.state.runtime
    transport = httpx.ASGITransport(app=app)
    suffix = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        org = await http.post("/api/v1/admin/organizations", json={"name": f"bench-{suffix}"}, headers=admin)
        org_auth = {"Authorization": f"Bearer {org.json()['secret']}"}
        projects = []
        for name in ("hooked", "plain"):
            response = await http.post("/api/v1/projects", json={"name": name}, headers=org_auth)
            response.raise_for_status()
            projects.append(response.json())
        headers = {"Authorization": f"Bearer {projects[0]['secret_key']}"}
        for sink in sinks:
            response = await http.post("/api/v1/webhooks", json={"endpoint": sink.url}, headers=headers)
            response.raise_for_status()
    return Bench(runtime, projects[0]["id"], projects[1]["id"], [str(uuid.uuid4()) for _ in range(ROOMS)])


def direct_poster(sinks: list[Sink], sender: WebhookSender) -> Any:
    """Post an event to every sink at once, signed, from this process: no database, no retries."""

    async def post(event: DomainEvent) -> None:
        body = json.dumps(
            {
                "event": event.type,
                "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
                "data": {"room_id": event.room_id},
            },
            separators=(",", ":"),
        ).encode()
        await asyncio.gather(
            *(
                sender.send(
                    url=s.url,
                    secret="bench-secret-0123456789",
                    delivery_id=str(uuid.uuid4()),
                    event_type=event.type,
                    body=body,
                )
                for s in sinks
            )
        )

    return post


async def measure(label: str, sinks: list[Sink], count: int, start: Any) -> Result:
    """Run ``start()`` (which emits ``count`` events) and wait until every sink has them all."""
    for sink in sinks:
        sink.reset(count)
    started = time.perf_counter()
    await start()
    await wait_all(sinks)
    elapsed = time.perf_counter() - started
    return Result(label, count, elapsed, [x for s in sinks for x in s.latencies])


async def paced(count: int, rate: float, make_one: Any) -> None:
    """Emit ``count`` events at ``rate`` per second, each on time whatever the others are doing."""
    loop = asyncio.get_running_loop()
    begin = loop.time()

    async def at(index: int) -> None:
        await asyncio.sleep(max(0.0, begin + index / rate - loop.time()))
        await make_one(index)

    await asyncio.gather(*(at(index) for index in range(count)))


async def run_backend(name: str, url: str, data_dir: Path, endpoints: int, args: argparse.Namespace) -> None:
    sinks = [await Sink().start() for _ in range(endpoints)]
    sender = WebhookSender(timeout=10, allow_private=True, body_limit=2048)
    bench = await open_bench(url, data_dir, sinks)
    post = direct_poster(sinks, sender)

    async def bare(index: int) -> None:
        await post(
            DomainEvent(type="room.updated", project_id="bench", room_id=bench.rooms[index % ROOMS], data={})
        )

    async def after_commit(index: int) -> None:
        await post(await bench.emit(bench.plain_project, index))

    async def outbox(index: int) -> None:
        await bench.emit(bench.hooked_project, index)

    count, producers = args.events, args.producers
    rate = args.rate / endpoints
    print(f"{name}: {endpoints} endpoint(s), burst of {count} events from {producers} producers", flush=True)
    await bench.runtime.runner.start()
    try:
        burst = [
            await measure("direct, no database", sinks, count, lambda: produce(count, producers, bare)),
            await measure(
                "direct, after commit", sinks, count, lambda: produce(count, producers, after_commit)
            ),
            await measure("outbox", sinks, count, lambda: produce(count, producers, outbox)),
        ]
        print(f"{name}: {endpoints} endpoint(s), {count} events paced at {rate:g} events/s", flush=True)
        steady = [
            await measure("direct, after commit", sinks, count, lambda: paced(count, rate, after_commit)),
            await measure("outbox", sinks, count, lambda: paced(count, rate, outbox)),
        ]
    finally:
        await bench.runtime.runner.stop()
        await bench.runtime.engine.dispose()
        await sender.aclose()
        for sink in sinks:
            await sink.stop()
    report(burst, steady)


def report(burst: list[Result], steady: list[Result]) -> None:
    print("  burst (throughput):")
    for result in burst:
        print(
            f"    {result.label:<22} {result.rate:8.1f} events/s  "
            f"({result.events} events, {len(result.latencies)} deliveries, {result.seconds:.2f} s)"
        )
    bare, baseline, outbox = burst
    ratio = outbox.rate / baseline.rate
    print(
        f"    ratio outbox / direct after commit: {ratio:.2f} (target >= 0.5)"
        f"   [outbox / direct without database: {outbox.rate / bare.rate:.2f}]"
    )
    print("  paced (latency from the event to its receipt):")
    for result in steady:
        p50, p99 = result.percentile(0.50), result.percentile(0.99)
        print(f"    {result.label:<22} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    p99 = steady[1].percentile(0.99)
    verdict = "met" if ratio >= 0.5 and p99 < 250 else "NOT MET"
    print(f"  targets (ratio >= 0.5, outbox p99 < 250 ms): {verdict}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--producers", type=int, default=8)
    parser.add_argument(
        "--rate", type=float, default=100.0, help="paced phase: deliveries/s, split over the endpoints"
    )
    parser.add_argument("--postgres", help="postgresql+asyncpg://… of an EMPTY database to migrate and use")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="conclave-bench-") as tmp:
        backends = {"sqlite": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"}
        if args.postgres:
            backends["postgresql"] = args.postgres
        for name, url in backends.items():
            await asyncio.to_thread(upgrade, url)
            for endpoints in (1, 10):
                await run_backend(name, url, Path(tmp), endpoints, args)


if __name__ == "__main__":
    asyncio.run(main())

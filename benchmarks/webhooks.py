"""Webhook delivery through the durable outbox, against direct HTTP posts, in one run.

What it measures: events/s fully delivered and p50/p99 latency from the event (its timestamp,
taken when the service emits it) to its receipt by a real HTTP receiver on loopback, with 1 and
10 endpoints. The outbox path is the production one: each event is emitted in its own
transaction, the bus hooks write the log row, the delivery rows and the job in it, the
in-process runner is woken after commit, claims the job and posts the signed request.

The baseline is the same process posting the same signed payloads directly with one shared
httpx client (no database, no retries): the ceiling the outbox is compared with. The ratio is
printed; the targets are >= 0.5 of the baseline rate and p99 < 250 ms on loopback.

    .venv/bin/python benchmarks/webhooks.py [--events 500] [--producers 8] [--postgres URL]
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

import httpx

from conclave.app import create_app
from conclave.config import Settings
from conclave.kit.events import DomainEvent, emit
from conclave.kit.migrate import upgrade
from conclave.kit.transaction import transaction
from conclave.webhooks.sender import WebhookSender
from conclave.webhooks.signing import sign

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
        except (asyncio.IncompleteReadError, ConnectionError):
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


async def run_baseline(sinks: list[Sink], count: int, producers: int) -> Result:
    for sink in sinks:
        sink.reset(count)
    sender = WebhookSender(timeout=10, allow_private=True, body_limit=2048)
    project_id, rooms = str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(ROOMS)]

    async def one(index: int) -> None:
        event = DomainEvent(type="room.updated", project_id=project_id, room_id=rooms[index % ROOMS], data={})
        body = json.dumps(
            {
                "event": event.type,
                "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
                "data": {"room_id": event.room_id},
            },
            separators=(",", ":"),
        ).encode()
        sign("bench-secret-0123456789", int(time.time()), body)  # the signing cost, as the outbox pays it
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

    started = time.perf_counter()
    await produce(count, producers, one)
    await wait_all(sinks)
    elapsed = time.perf_counter() - started
    await sender.aclose()
    return Result(
        f"direct, {len(sinks)} endpoint(s)", count, elapsed, [x for s in sinks for x in s.latencies]
    )


async def run_outbox(
    database_url: str, data_dir: Path, sinks: list[Sink], count: int, producers: int
) -> Result:
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
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        org = (await http.post("/api/v1/admin/organizations", json={"name": "bench"}, headers=admin)).json()
        project = (
            await http.post(
                "/api/v1/projects",
                json={"name": "bench"},
                headers={"Authorization": f"Bearer {org['secret']}"},
            )
        ).json()
        headers = {"Authorization": f"Bearer {project['secret_key']}"}
        for sink in sinks:
            response = await http.post("/api/v1/webhooks", json={"endpoint": sink.url}, headers=headers)
            response.raise_for_status()
    rooms = [str(uuid.uuid4()) for _ in range(ROOMS)]
    for sink in sinks:
        sink.reset(count)
    await runtime.runner.start()
    try:

        async def one(index: int) -> None:
            async with transaction(runtime.sessionmaker, runtime.bus) as session:
                emit(
                    session,
                    DomainEvent(
                        type="room.updated", project_id=project["id"], room_id=rooms[index % ROOMS], data={}
                    ),
                )

        started = time.perf_counter()
        await produce(count, producers, one)
        await wait_all(sinks)
        elapsed = time.perf_counter() - started
    finally:
        await runtime.runner.stop()
        await runtime.engine.dispose()
    return Result(
        f"outbox, {len(sinks)} endpoint(s)", count, elapsed, [x for s in sinks for x in s.latencies]
    )


def report(baseline: Result, outbox: Result) -> None:
    for result in (baseline, outbox):
        print(
            f"  {result.label:<24} {result.rate:8.1f} events/s   "
            f"p50 {result.percentile(0.50):7.1f} ms   p99 {result.percentile(0.99):7.1f} ms   "
            f"({result.events} events, {len(result.latencies)} deliveries, {result.seconds:.2f} s)"
        )
    ratio = outbox.rate / baseline.rate
    verdict = "ok" if ratio >= 0.5 and outbox.percentile(0.99) < 250 else "below target"
    print(f"  ratio outbox/direct: {ratio:.2f} (target >= 0.5, p99 < 250 ms): {verdict}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--producers", type=int, default=8)
    parser.add_argument("--postgres", help="postgresql+asyncpg://… of an EMPTY database to migrate and use")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="conclave-bench-") as tmp:
        backends = {"sqlite": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"}
        if args.postgres:
            backends["postgresql"] = args.postgres
        for name, url in backends.items():
            await asyncio.to_thread(upgrade, url)
            for endpoints in (1, 10):
                sinks = [await Sink().start() for _ in range(endpoints)]
                try:
                    print(
                        f"{name}: {endpoints} endpoint(s), {args.events} events, {args.producers} producers"
                    )
                    baseline = await run_baseline(sinks, args.events, args.producers)
                    outbox = await run_outbox(url, Path(tmp), sinks, args.events, args.producers)
                    report(baseline, outbox)
                finally:
                    for sink in sinks:
                        await sink.stop()


if __name__ == "__main__":
    asyncio.run(main())

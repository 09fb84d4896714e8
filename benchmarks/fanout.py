"""Fan-out: one publisher, 1/5/10/20 subscribers -- delivered frame rate and who pays the CPU.

Why: Conclave only signals; Janus forwards every RTP packet. If that holds, the Conclave server's CPU
stays flat while subscribers are added (a little per join, nothing per packet), Janus' CPU grows with
the number of forwarded streams, and every subscriber keeps the publisher's frame rate. This shows it
with real peers: a ``conclave serve`` with its own Janus in a network namespace, one SDK publisher
(synthetic 320x240 test pattern at 15 fps, video only by default) and N SDK subscribers joined through
the REST token and ``/rtc``, all over the namespace veth (ICE restricted to the address from
``GET /rtc/config``).

For each level N the script measures, over a window (default 15 s) after a warm-up:

- frames decoded per second at each subscriber (min and median over the N subscribers), next to the
  frames the publisher's track actually produced per second;
- CPU, from ``/proc/<pid>/stat`` utime+stime deltas: Janus (the server's ``janus`` child), the Conclave
  server process, the subscriber worker processes, this process (the publisher), and the rest of the
  machine (``/proc/stat``); and Conclave's and Janus' CPU per subscriber-second.

A level 0 (publisher only) comes first as the idle reference, so "Conclave CPU per subscriber-second
above idle" isolates what subscribers cost the server.

The subscribers decode VP8 in Python (aiortc + PyAV), which is far heavier than what Janus or Conclave
do per stream, so they run in worker processes (``--per-worker``, default 5 each) and their CPU is
reported separately: on a 2-core machine they, not Janus or Conclave, set the ceiling.

    .venv/bin/python benchmarks/fanout.py [--subscribers 1,5,10,20] [--seconds 15] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _media import (
    BenchmarkSetupError,
    CpuSample,
    MediaServerProcess,
    PacedSource,
    cpu_seconds,
    install_sigterm_handler,
    media_server,
    preflight,
)

SETUP_TIMEOUT_S = 60.0
JOIN_TIMEOUT_S = 30.0  # per subscriber: join + subscribe + first frame
RESULT_TIMEOUT_S = 30.0
WORKER_EXIT_TIMEOUT_S = 30.0
LEAVE_TIMEOUT_S = 15.0
WORKER_SCRIPT = str(Path(__file__).resolve())
BUSY_MACHINE_CORES = 1.8  # of 2: the frame rates are then bounded by CPU, not by the media path


# -- worker process: N subscribers ----------------------------------------------------------------


async def _stdin_reader() -> asyncio.StreamReader:
    """stdin as an asyncio stream: a blocked ``readline`` thread would keep the worker from exiting."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def worker_main() -> int:
    """Join the given subscribers, then report decoded frames between ``start`` and ``stop`` lines.

    Protocol on stdin/stdout, one JSON object or word per line: config in; ``ready`` out once every
    subscriber decoded a frame; ``start`` in; ``stop`` in; ``result`` out; then EOF (or ``exit``) in,
    and the subscribers leave. The parent's EOF (it died) also ends the worker.
    """
    from conclave.sdk import Participant

    install_sigterm_handler()
    reader = await _stdin_reader()
    config = json.loads(await reader.readline())
    subscribers: list[Participant] = []
    try:
        for token in config["tokens"]:
            subscriber = Participant(
                config["server"],
                token=token,
                ice_addresses=config["ice_addresses"],
                timeout=JOIN_TIMEOUT_S,
                auto_resume=False,
            )
            subscribers.append(subscriber)
            await subscriber.join()
            await subscriber.subscribe()
        await asyncio.gather(*(s.wait_for_frames(video=1, within=JOIN_TIMEOUT_S) for s in subscribers))
        _emit({"event": "ready", "subscribers": len(subscribers)})
        if (await reader.readline()).strip() != b"start":
            return 1
        began, cpu_began = time.monotonic(), cpu_seconds(os.getpid()) or 0.0
        counts = [s.frames_received.video for s in subscribers]
        if (await reader.readline()).strip() != b"stop":
            return 1
        ended, cpu_ended = time.monotonic(), cpu_seconds(os.getpid()) or 0.0
        frames = [s.frames_received.video - c for s, c in zip(subscribers, counts, strict=True)]
        errors = [e for s in subscribers for e in s.media_errors]
        _emit(
            {
                "event": "result",
                "seconds": ended - began,
                "frames": frames,
                "cpu_seconds": cpu_ended - cpu_began,
                "errors": errors,
            }
        )
        await reader.readline()  # "exit" or EOF: leave
        return 0
    except Exception as exc:
        _emit({"event": "error", "message": f"{type(exc).__name__}: {exc}"})
        return 1
    finally:
        await asyncio.gather(
            *(asyncio.wait_for(s.leave(), LEAVE_TIMEOUT_S) for s in subscribers), return_exceptions=True
        )


# -- parent: the server, the publisher, the levels ------------------------------------------------


@dataclass
class Worker:
    """One subscriber worker process, addressed and stopped by its PID only."""

    process: asyncio.subprocess.Process
    count: int

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def receive(self, within: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), within)
        if not line:
            raise BenchmarkSetupError(f"worker {self.process.pid} exited (code {await self.process.wait()})")
        message: dict[str, Any] = json.loads(line)
        if message.get("event") == "error":
            raise BenchmarkSetupError(f"worker {self.process.pid}: {message.get('message')}")
        return message

    async def stop(self) -> None:
        """EOF first (the subscribers leave cleanly), then SIGTERM, then SIGKILL -- by PID."""
        process = self.process
        if process.returncode is None and process.stdin is not None:
            with contextlib.suppress(Exception):
                process.stdin.close()
        for sig, wait in ((None, WORKER_EXIT_TIMEOUT_S), (signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
            if process.returncode is not None:
                return
            if sig is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), wait)


async def start_workers(server: MediaServerProcess, tokens: list[str], per_worker: int) -> list[Worker]:
    """Spread the subscribers over ``ceil(n / per_worker)`` processes, round robin."""
    count = math.ceil(len(tokens) / per_worker)
    groups = [tokens[i::count] for i in range(count)]
    workers: list[Worker] = []
    for group in groups:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            WORKER_SCRIPT,
            "--worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,  # our Ctrl-C stops them in order through ``Worker.stop``
        )
        worker = Worker(process, len(group))
        workers.append(worker)
        config = {"server": server.base_url, "ice_addresses": list(server.ice_addresses), "tokens": group}
        await worker.send(json.dumps(config))
    return workers


async def measure_level(
    server: MediaServerProcess,
    api: Any,
    room_id: str,
    source: PacedSource,
    n: int,
    *,
    seconds: float,
    warmup: float,
    per_worker: int,
) -> dict[str, Any]:
    """One level: N subscribers joined and decoding, then one measured window."""
    log = sys.stderr
    workers: list[Worker] = []
    try:
        if n:
            tokens = [
                (await api.issue_token(room_id, name=f"sub-{n}-{i}", role="attendee")).token for i in range(n)
            ]
            workers = await start_workers(server, tokens, per_worker)
            join_limit = 15.0 + JOIN_TIMEOUT_S + 2.0 * per_worker
            await asyncio.gather(*(w.receive(join_limit) for w in workers))
            print(f"  {n} subscribers joined in {len(workers)} worker(s); warming up {warmup:g} s", file=log)
        await asyncio.sleep(warmup)
        pids = {
            "server": [server.pid],
            "janus": [server.janus_pid],
            "clients": [w.process.pid for w in workers],
            "publisher": [os.getpid()],
        }
        frames_before = source.frames_sent
        before = CpuSample.take(pids)
        await asyncio.gather(*(w.send("start") for w in workers))
        await asyncio.sleep(seconds)
        await asyncio.gather(*(w.send("stop") for w in workers))
        after = CpuSample.take(pids)
        frames_sent = source.frames_sent - frames_before
        results = await asyncio.gather(*(w.receive(RESULT_TIMEOUT_S) for w in workers))
    finally:
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
    window = after.at - before.at
    cores = after.cores_since(before)
    fps = [frames / result["seconds"] for result in results for frames in result["frames"]]
    ours = cores["server"] + cores["janus"] + cores["clients"] + cores["publisher"]
    row: dict[str, Any] = {
        "subscribers": n,
        "workers": len(workers),
        "window_s": round(window, 2),
        "source_fps": round(frames_sent / window, 2),
        "fps_min": round(min(fps), 2) if fps else None,
        "fps_median": round(statistics.median(fps), 2) if fps else None,
        "cores": {
            "janus": round(cores["janus"], 3),
            "server": round(cores["server"], 3),
            "clients": round(cores["clients"], 3),
            "publisher": round(cores["publisher"], 3),
            "other": round(max(cores["machine"] - ours, 0.0), 3),
            "machine": round(cores["machine"], 3),
        },
        "client_cpu_by_workers": round(sum(r["cpu_seconds"] for r in results) / window, 3),
        "media_errors": [e for r in results for e in r["errors"]],
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    if n:
        row["server_ms_per_subscriber_s"] = round(cores["server"] * 1000.0 / n, 3)
        row["janus_ms_per_subscriber_s"] = round(cores["janus"] * 1000.0 / n, 3)
        row["client_ms_per_subscriber_s"] = round(cores["clients"] * 1000.0 / n, 3)
    return row


async def run(levels: list[int], *, seconds: float, warmup: float, per_worker: int, fps: int,
              width: int, height: int, audio: bool) -> dict[str, Any]:  # fmt: skip
    from conclave.sdk import ConclaveClient, Participant

    install_sigterm_handler()
    log = sys.stderr
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()[0]
    async with media_server(label="fanout") as server:
        print(f"server pid {server.pid}, Janus pid {server.janus_pid}, ICE {server.ice_addresses}", file=log)
        api = ConclaveClient(server.base_url, server.secret_key, timeout=10.0)
        source = PacedSource(width=width, height=height, fps=fps)
        publisher: Participant | None = None
        try:
            room = await api.create_room(description="fan-out bench")
            issued = await api.issue_token(str(room["id"]), name="bench-publisher", role="moderator")
            publisher = Participant(
                server.base_url,
                token=issued.token,
                ice_addresses=server.ice_addresses,
                timeout=SETUP_TIMEOUT_S,
                auto_resume=False,
            )
            await publisher.join()
            await publisher.publish(audio=audio, video=True, source=source)
            for n in levels:
                print(f"level {n}: {'publisher only' if n == 0 else f'{n} subscribers'}", file=log)
                row = await measure_level(
                    server,
                    api,
                    str(room["id"]),
                    source,
                    n,
                    seconds=seconds,
                    warmup=warmup,
                    per_worker=per_worker,
                )
                rows.append(row)
                print(f"  {json.dumps(row)}", file=log)
        finally:
            if publisher is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(publisher.leave(), LEAVE_TIMEOUT_S)
            await api.aclose()
    idle = next((r for r in rows if r["subscribers"] == 0), None)
    for row in rows:
        if idle is not None and row["subscribers"]:
            above = (row["cores"]["server"] - idle["cores"]["server"]) * 1000.0 / row["subscribers"]
            janus_above = (row["cores"]["janus"] - idle["cores"]["janus"]) * 1000.0 / row["subscribers"]
            row["server_ms_per_subscriber_s_above_idle"] = round(above, 3)
            row["janus_ms_per_subscriber_s_above_idle"] = round(janus_above, 3)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "video": f"{width}x{height}@{fps}" + (" + audio" if audio else " (video only)"),
        "seconds": seconds,
        "warmup": warmup,
        "per_worker": per_worker,
        "cpus": os.cpu_count(),
        "load_average_1m_before": round(load_before, 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "levels": rows,
    }


def print_table(figures: dict[str, Any]) -> None:
    print(
        f"fan-out: one publisher ({figures['video']}), {figures['seconds']:g} s windows, "
        f"{figures['cpus']} cpus; cores = average CPU cores over the window"
    )
    header = (
        f"{'subs':>4} {'wrk':>3} {'src fps':>7} {'fps min':>7} {'fps med':>7} "
        f"{'janus':>6} {'server':>6} {'clients':>7} {'pub':>5} {'other':>5} "
        f"{'srv ms/sub-s':>12} {'above idle':>10} {'janus ms/sub-s':>14} {'above idle':>10}"
    )
    print(header)
    for row in figures["levels"]:
        c = row["cores"]

        def cell(key: str, width: int, row: dict[str, Any] = row) -> str:
            value = row.get(key)
            return f"{value:>{width}.2f}" if value is not None else f"{'-':>{width}}"

        print(
            f"{row['subscribers']:>4} {row['workers']:>3} {row['source_fps']:>7.2f} {cell('fps_min', 7)} "
            f"{cell('fps_median', 7)} {c['janus']:>6.3f} {c['server']:>6.3f} {c['clients']:>7.3f} "
            f"{c['publisher']:>5.2f} {c['other']:>5.2f} {cell('server_ms_per_subscriber_s', 12)} "
            f"{cell('server_ms_per_subscriber_s_above_idle', 10)} {cell('janus_ms_per_subscriber_s', 14)} "
            f"{cell('janus_ms_per_subscriber_s_above_idle', 10)}"
        )
    busy = [row["subscribers"] for row in figures["levels"] if row["cores"]["machine"] >= BUSY_MACHINE_CORES]
    if busy:
        print(
            f"note: the machine was CPU-saturated (>= {BUSY_MACHINE_CORES} cores busy) at levels {busy}: "
            "frame rates there are bounded by CPU (see the clients and other columns), "
            "not by Janus or Conclave"
        )
    errors = [e for row in figures["levels"] for e in row["media_errors"]]
    if errors:
        print(f"!!!! {len(errors)} subscriber media errors: {errors[:5]}")
    print(
        f"load average {figures['load_average_1m_before']} -> {figures['load_average_1m_after']} "
        f"on {figures['cpus']} cpus"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--subscribers", default="1,5,10,20", help="comma-separated levels (default 1,5,10,20)"
    )
    parser.add_argument("--no-idle", action="store_true", help="skip the publisher-only reference level")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured window per level (default 15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds after joining, before measuring")
    parser.add_argument(
        "--per-worker", type=int, default=5, help="subscribers per worker process (default 5)"
    )
    parser.add_argument("--fps", type=int, default=15, help="publisher frame rate (default 15)")
    parser.add_argument("--size", default="320x240", help="publisher video size (default 320x240)")
    parser.add_argument("--audio", action="store_true", help="also publish (and decode) a tone")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return asyncio.run(worker_main())
    try:
        levels = [int(v) for v in args.subscribers.split(",") if v.strip()]
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        parser.error("--subscribers takes integers like 1,5,10,20 and --size WxH")
    if not levels or any(not 1 <= n <= 100 for n in levels):
        parser.error("each level must be 1..100 (the room's default max_participants is 100)")
    if not 1 <= args.seconds <= 600 or not 0 <= args.warmup <= 120 or not 1 <= args.per_worker <= 50:
        parser.error("--seconds 1..600, --warmup 0..120, --per-worker 1..50")
    if not args.no_idle:
        levels = [0, *levels]
    problem = preflight()
    if problem is not None:
        print(f"cannot run: {problem}", file=sys.stderr)
        return 2
    try:
        figures = asyncio.run(
            run(
                levels,
                seconds=args.seconds,
                warmup=args.warmup,
                per_worker=args.per_worker,
                fps=args.fps,
                width=width,
                height=height,
                audio=args.audio,
            )
        )
    except BenchmarkSetupError as exc:
        print(f"setup failed: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, or SIGTERM via the cancelled main task
        print("interrupted: every process and namespace this run started has been stopped", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print_table(figures)
    errors = any(row["media_errors"] for row in figures["levels"])
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

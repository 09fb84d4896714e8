"""API throughput of Conclave's hot write paths, relative to the same server's no-op endpoint.

Why: creating rooms and issuing join tokens are what an integrating product calls on every meeting,
so their cost per request decides how many meetings one server can open. Absolute requests/s depend
on the machine, so each scenario is reported as a ratio to ``GET /healthz`` (same app, same process,
no database) measured in the same run: the ratio says how much of the request budget Conclave's own
work (authentication, SQL, JSON, JWT) takes on top of the HTTP stack. The target is a ratio >= 0.5.

The server is a real ``conclave serve`` subprocess with one uvicorn worker, against SQLite and
PostgreSQL. The load comes from ``wrk`` when it is installed (``apt-get install wrk``): a compiled,
single-threaded client leaves the CPU to the server, which matters on a small machine where both share
the cores. Without wrk an asyncio + httpx client is used instead, and the output says so, because it
competes with the server for CPU and lowers every figure.

Run: ``make bench`` or ``.venv/bin/python benchmarks/api_throughput.py [--backend sqlite] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import math
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The helper sits next to this script, which is not a package.
from _reference_server import AUTH_FLOOR_PATH, FRAMEWORK_FLOOR_PATH, ROOM_FLOOR_PATH
from _server import (
    DEFAULT_PG_ADMIN_DSN,
    BenchmarkSetupError,
    PostgresTarget,
    RunningServer,
    running_server,
    throwaway_database,
)

TARGET_RATIO = 0.5
BUSY_MACHINE_CORES = 0.25
CLIENT_BOUND_SERVER_CORES = 0.7
REQUEST_TIMEOUT_S = 10
BACKENDS = ("sqlite", "postgresql")
BASELINE = "healthz"


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    body: str | None
    authenticated: bool
    # A reference route of _reference_server.py: reported with its ratio, but not held to the target.
    reference: bool = False


@dataclass
class Measurement:
    """One scenario on one backend. ``rps`` counts 2xx responses only; latencies cover every response.

    CPU figures are in cores over the window: ``server_cpu`` for the server process (1.0 saturates its
    single worker), ``database_cpu`` for the PostgreSQL backends serving it (0 for SQLite, which runs
    inside the server), ``client_cpu`` for the load generator, ``other_cpu`` for unrelated processes.
    """

    backend: str
    scenario: str
    method: str
    path: str
    generator: str
    seconds: float
    responses: int
    errors: int
    error_detail: str
    rps: float
    p50_ms: float
    p99_ms: float
    warmup_errors: int = 0
    ratio: float | None = None
    server_cpu: float | None = None
    database_cpu: float | None = None
    client_cpu: float | None = None
    other_cpu: float | None = None
    reference: bool = False
    # With several rounds: each round's ratio; ``ratio`` is their median.
    round_ratios: list[float] | None = None

    @property
    def meets_target(self) -> bool | None:
        if self.ratio is None or self.reference:
            return None
        return self.ratio >= TARGET_RATIO


TOKEN_BODY = json.dumps({"u": "Bench", "role": "attendee"})
ROOM_BODY = json.dumps({"description": "bench"})


def reference_scenarios(room_id: str) -> list[Scenario]:
    """The token route's shape with no work, then with authentication only, then the create-room
    route's shape with no work (see _reference_server)."""
    token_shaped = [
        Scenario(name, "POST", path.format(room=room_id), TOKEN_BODY, authenticated=True, reference=True)
        for name, path in (("framework-floor", FRAMEWORK_FLOOR_PATH), ("auth-floor", AUTH_FLOOR_PATH))
    ]
    room_shaped = Scenario(
        "room-floor", "POST", ROOM_FLOOR_PATH, ROOM_BODY, authenticated=False, reference=True
    )
    return [*token_shaped, room_shaped]


def scenarios(room_id: str, *, references: bool) -> list[Scenario]:
    """The baseline first, so every ratio divides by a figure from the same server and run."""
    return [
        Scenario(BASELINE, "GET", "/healthz", None, authenticated=False),
        *(reference_scenarios(room_id) if references else []),
        Scenario("create-room", "POST", "/api/v1/rooms", ROOM_BODY, authenticated=True),
        Scenario(
            "issue-token",
            "POST",
            f"/api/v1/rooms/{room_id}/token",
            TOKEN_BODY,
            authenticated=True,
        ),
    ]


def log(message: str) -> None:
    """Progress goes to stderr so ``--json`` leaves stdout machine-readable."""
    print(message, file=sys.stderr, flush=True)


def headers_for(scenario: Scenario, secret_key: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    if scenario.body is not None:
        headers["Content-Type"] = "application/json"
    if scenario.authenticated:
        headers["Authorization"] = f"Bearer {secret_key}"
    return headers


# -- CPU accounting -------------------------------------------------------------------------


class CpuWindow:
    """CPU used by the server, its database, the client and everything else during the window.

    The machine is small and shared (other work may be running), so each figure comes with how busy
    the cores were: a server at 1.0 core is CPU-bound in its one worker; a high client or other share
    means CPU was taken from the server and the figure understates it. The client is this process plus
    the children it reaped in the window (wrk); the database is the PostgreSQL backends connected to
    the run's database, when PostgreSQL is local. Linux only (``/proc``); elsewhere figures are None.
    """

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.server_cpu: float | None = None
        self.database_cpu: float | None = None
        self.client_cpu: float | None = None
        self.other_cpu: float | None = None
        self._start: _CpuSample | None = None

    @staticmethod
    def _busy_ticks() -> int:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        values = [int(value) for value in fields[:8]]
        return sum(values) - values[3] - values[4]  # minus idle and iowait

    @staticmethod
    def _process_ticks(pid: int) -> int:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    def _database_ticks(self) -> dict[int, int]:
        if self.server.database is None:
            return {}
        ticks: dict[int, int] = {}
        for pid in self.server.database.target.backend_pids(self.server.database.name):
            with contextlib.suppress(OSError, ValueError, IndexError):  # remote, or gone meanwhile
                ticks[pid] = self._process_ticks(pid)
        return ticks

    @staticmethod
    def _client_seconds() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def _sample(self) -> _CpuSample:
        database = self._database_ticks()  # first: its query costs the client a little, not the window
        return _CpuSample(
            time.monotonic(),
            self._busy_ticks(),
            self._process_ticks(self.server.pid),
            database,
            self._client_seconds(),
        )

    def __enter__(self) -> CpuWindow:
        try:
            self._start = self._sample()
        except Exception as exc:  # accounting is a diagnostic: never fail the measurement for it
            log(f"  (no CPU accounting: {exc})")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._start is None or exc_info[0] is not None:
            return
        try:
            end = self._sample()
        except Exception as exc:
            log(f"  (no CPU accounting: {exc})")
            return
        start = self._start
        elapsed = end.monotonic - start.monotonic
        server = (end.server - start.server) / self.ticks
        # A backend that connected during the window counts from zero: all its CPU is in the window.
        database = sum(ticks - start.database.get(pid, 0) for pid, ticks in end.database.items()) / self.ticks
        client = end.client - start.client
        busy = (end.busy - start.busy) / self.ticks
        self.server_cpu = round(server / elapsed, 2)
        self.database_cpu = round(database / elapsed, 2)
        self.client_cpu = round(client / elapsed, 2)
        self.other_cpu = round(max(0.0, busy - server - database - client) / elapsed, 2)


@dataclass(frozen=True)
class _CpuSample:
    monotonic: float
    busy: int
    server: int
    database: dict[int, int]
    client: float


# -- wrk --------------------------------------------------------------------------------------

# Counts non-2xx per status code in each thread (wrk itself only counts >= 400), then prints one
# JSON line with the totals and the latency percentiles from wrk's own histogram (microseconds).
_WRK_LUA_TEMPLATE = """\
-- Generated by benchmarks/api_throughput.py for one scenario; deleted after the run.
wrk.method = {method}
{body}
{headers}
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = {{}}
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad[status] = (bad[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local non2xx, totals, codes = 0, {{}}, {{}}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("bad")) do
      non2xx = non2xx + count
      totals[status] = (totals[status] or 0) + count
    end
  end
  for status, count in pairs(totals) do
    codes[#codes + 1] = status .. "x" .. count
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {{"requests": %d, "duration_us": %d, "non2xx": %d, "codes": "%s", "connect": %d, '
      .. '"read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}}\\n',
    summary.requests, summary.duration, non2xx, table.concat(codes, " "), e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(value: str) -> str:
    if not value.isascii() or not value.isprintable():
        raise ValueError(f"not a plain ASCII string for the wrk script: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_version(path: str) -> str:
    completed = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False)
    match = re.search(r"wrk\s+(\S+)", completed.stdout + completed.stderr)
    return match.group(1) if match else "unknown version"


def run_wrk(
    wrk: str,
    server: RunningServer,
    scenario: Scenario,
    *,
    seconds: int,
    concurrency: int,
    threads: int,
    workdir: Path,
) -> Measurement:
    lines_body = f"wrk.body = {_lua_string(scenario.body)}" if scenario.body is not None else ""
    lines_headers = "\n".join(
        f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}"
        for name, value in headers_for(scenario, server.credentials.secret_key).items()
    )
    script = workdir / f"{scenario.name}.lua"
    script.write_text(
        _WRK_LUA_TEMPLATE.format(method=_lua_string(scenario.method), body=lines_body, headers=lines_headers)
    )
    command = [
        wrk,
        f"--threads={min(threads, concurrency)}",
        f"--connections={concurrency}",
        f"--duration={seconds}s",
        f"--timeout={REQUEST_TIMEOUT_S}s",
        "--latency",
        f"--script={script}",
        server.base_url + scenario.path,
    ]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + REQUEST_TIMEOUT_S + 30, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchmarkSetupError(f"wrk did not finish {scenario.name} in time") from exc
    match = re.search(r"^WRK_RESULT (\{.*\})$", completed.stdout, re.MULTILINE)
    if completed.returncode != 0 or match is None:
        raise BenchmarkSetupError(
            f"wrk failed on {scenario.name} (exit {completed.returncode}):\n"
            f"{completed.stdout}\n{completed.stderr}"
        )
    data = json.loads(match.group(1))
    elapsed = data["duration_us"] / 1e6
    socket_errors = {kind: data[kind] for kind in ("connect", "read", "write", "timeout") if data[kind]}
    detail = " ".join(
        ([f"HTTP {code}" for code in sorted(data["codes"].split())] if data["codes"] else [])
        + [f"{kind} {count}" for kind, count in socket_errors.items()]
    )
    errors = data["non2xx"] + sum(socket_errors.values())
    return Measurement(
        backend=server.backend,
        scenario=scenario.name,
        method=scenario.method,
        path=scenario.path,
        generator="wrk",
        reference=scenario.reference,
        seconds=round(elapsed, 3),
        responses=data["requests"],
        errors=errors,
        error_detail=detail,
        rps=(data["requests"] - data["non2xx"]) / elapsed if elapsed else 0.0,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


# -- asyncio + httpx fallback -----------------------------------------------------------------


def _percentile(sorted_values: list[float], percent: float) -> float:
    """Nearest-rank percentile; 0.0 for no samples."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(percent / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


async def _httpx_load(
    server: RunningServer, scenario: Scenario, seconds: int, concurrency: int
) -> Measurement:
    latencies: list[float] = []
    codes: dict[str, int] = {}
    ok = 0
    headers = headers_for(scenario, server.credentials.secret_key)
    content = scenario.body.encode() if scenario.body is not None else None
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=server.base_url, limits=limits, timeout=REQUEST_TIMEOUT_S
    ) as client:
        start = time.perf_counter()
        deadline = start + seconds

        async def worker() -> None:
            nonlocal ok
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                try:
                    response = await client.request(
                        scenario.method, scenario.path, headers=headers, content=content
                    )
                except httpx.HTTPError as exc:
                    key = type(exc).__name__
                    codes[key] = codes.get(key, 0) + 1
                    continue
                finally:
                    latencies.append(time.perf_counter() - sent)
                if 200 <= response.status_code < 300:
                    ok += 1
                else:
                    key = f"HTTP {response.status_code}"
                    codes[key] = codes.get(key, 0) + 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return Measurement(
        backend=server.backend,
        scenario=scenario.name,
        method=scenario.method,
        path=scenario.path,
        generator="httpx",
        reference=scenario.reference,
        seconds=round(elapsed, 3),
        responses=len(latencies),
        errors=sum(codes.values()),
        error_detail=" ".join(f"{key}x{count}" for key, count in sorted(codes.items())),
        rps=ok / elapsed if elapsed else 0.0,
        p50_ms=_percentile(latencies, 50) * 1000,
        p99_ms=_percentile(latencies, 99) * 1000,
    )


def _skip_missing_sniffio() -> None:
    """Make httpcore's per-request ``import sniffio`` fail fast when sniffio is not installed.

    httpcore retries that import on every request, and a failed import is not cached: each one scans
    sys.path, which halved this client's throughput. None in sys.modules is Python's documented way
    to make an import fail at once; nothing changes when sniffio is installed.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def run_httpx(server: RunningServer, scenario: Scenario, *, seconds: int, concurrency: int) -> Measurement:
    _skip_missing_sniffio()
    return asyncio.run(
        asyncio.wait_for(
            _httpx_load(server, scenario, seconds, concurrency), timeout=seconds + REQUEST_TIMEOUT_S + 30
        )
    )


# -- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    backends: tuple[str, ...]
    explicit_backend: bool
    seconds: int
    warmup: int
    rounds: int
    concurrency: int
    threads: int
    wrk: str | None
    pg: PostgresTarget
    as_json: bool
    references: bool


def create_room(server: RunningServer) -> str:
    """The one room the token scenario issues tokens for."""
    response = httpx.post(
        f"{server.base_url}/api/v1/rooms",
        json={"description": "bench token room"},
        timeout=REQUEST_TIMEOUT_S,
        headers={"Authorization": f"Bearer {server.credentials.secret_key}"},
    )
    if response.status_code != 200:
        raise BenchmarkSetupError(
            f"could not create the token room: {response.status_code} {response.text[:300]}"
        )
    room_id: str = response.json()["id"]
    return room_id


def measure(
    server: RunningServer, scenario: Scenario, options: Options, seconds: int, workdir: Path
) -> Measurement:
    if options.wrk is not None:
        return run_wrk(
            options.wrk,
            server,
            scenario,
            seconds=seconds,
            concurrency=options.concurrency,
            threads=options.threads,
            workdir=workdir,
        )
    return run_httpx(server, scenario, seconds=seconds, concurrency=options.concurrency)


def _measure_once(
    server: RunningServer, scenario: Scenario, options: Options, workdir: Path, *, warm_up: bool
) -> Measurement:
    warmup_errors = 0
    if warm_up and options.warmup:
        log(f"  {scenario.name}: warming up {options.warmup} s")
        warm = measure(server, scenario, options, options.warmup, workdir)
        warmup_errors = warm.errors
        if warm.errors:
            log(f"  !! {scenario.name}: {warm.errors} errors during warm-up ({warm.error_detail})")
    log(f"  {scenario.name}: measuring {options.seconds} s at concurrency {options.concurrency}")
    with CpuWindow(server) as cpu:
        result = measure(server, scenario, options, options.seconds, workdir)
    result.warmup_errors = warmup_errors
    result.server_cpu, result.database_cpu = cpu.server_cpu, cpu.database_cpu
    result.client_cpu, result.other_cpu = cpu.client_cpu, cpu.other_cpu
    if result.errors:
        log(f"  !! {scenario.name}: {result.errors} ERRORS ({result.error_detail})")
    if (result.other_cpu or 0) > BUSY_MACHINE_CORES:
        log(
            f"  !! {scenario.name}: unrelated processes used {result.other_cpu} cores during the "
            "measurement; the machine was busy and this figure understates the server"
        )
    return result


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.fmean(known), 2) if known else None


def combine_rounds(rounds: list[Measurement], ratios: list[float] | None) -> Measurement:
    """One row from a scenario's rounds: medians of rate, latency and ratio, sums of counts,
    mean CPU. Each round's ratio divides by that round's own baseline, measured minutes apart at
    most, so a host that speeds up or slows down mid-run moves both sides of a ratio together."""
    first = rounds[0]
    return Measurement(
        backend=first.backend,
        scenario=first.scenario,
        method=first.method,
        path=first.path,
        generator=first.generator,
        seconds=sum(r.seconds for r in rounds),
        responses=sum(r.responses for r in rounds),
        errors=sum(r.errors for r in rounds),
        error_detail="; ".join(r.error_detail for r in rounds if r.error_detail),
        rps=statistics.median(r.rps for r in rounds),
        p50_ms=statistics.median(r.p50_ms for r in rounds),
        p99_ms=statistics.median(r.p99_ms for r in rounds),
        warmup_errors=sum(r.warmup_errors for r in rounds),
        ratio=statistics.median(ratios) if ratios else None,
        server_cpu=_mean([r.server_cpu for r in rounds]),
        database_cpu=_mean([r.database_cpu for r in rounds]),
        client_cpu=_mean([r.client_cpu for r in rounds]),
        other_cpu=_mean([r.other_cpu for r in rounds]),
        reference=first.reference,
        round_ratios=ratios if ratios and len(ratios) > 1 else None,
    )


def bench_backend(server: RunningServer, options: Options) -> list[Measurement]:
    room_id = create_room(server)
    plan = scenarios(room_id, references=options.references)
    rounds: list[list[Measurement]] = []
    with tempfile.TemporaryDirectory(prefix="conclave-bench-wrk-") as workdir:
        for number in range(options.rounds):
            if options.rounds > 1:
                log(f"  round {number + 1} of {options.rounds}")
            rounds.append(
                [_measure_once(server, s, options, Path(workdir), warm_up=number == 0) for s in plan]
            )
    results: list[Measurement] = []
    for index in range(len(plan)):
        measured = [round_[index] for round_ in rounds]
        ratios = None
        if index > 0:  # the baseline (index 0) has no ratio
            ratios = [
                round(m.rps / round_[0].rps, 3)
                for m, round_ in zip(measured, rounds, strict=True)
                if round_[0].rps
            ]
        results.append(combine_rounds(measured, ratios))
    baseline = results[0]
    server_cpu, client_cpu = baseline.server_cpu, baseline.client_cpu
    client_bound = (
        server_cpu is not None
        and client_cpu is not None
        and server_cpu < CLIENT_BOUND_SERVER_CORES
        and client_cpu > server_cpu
    )
    if client_bound:
        log(
            f"  !! {BASELINE}: the load generator ({client_cpu} cores) out-used the server "
            f"({server_cpu} cores): the baseline is client-bound and every ratio is overstated"
        )
    return results


@contextlib.contextmanager
def backend_server(backend: str, options: Options) -> Iterator[RunningServer]:
    if backend == "sqlite":
        with running_server(backend, None, reference_routes=options.references) as server:
            yield server
        return
    with (
        throwaway_database(options.pg) as database,
        running_server(backend, database, reference_routes=options.references) as server,
    ):
        yield server


def _cores(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def format_table(results: list[Measurement]) -> str:
    """Fixed-width table; the CPU column is cores used by server / database / client / unrelated."""
    header = (
        f"{'backend':<11}{'scenario':<17}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'ratio':>7}{'range':>11}  {'target >= ' + str(TARGET_RATIO):<15}{'cpu srv/db/cli/other':>22}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
        spread = f"{min(r.round_ratios):.2f}-{max(r.round_ratios):.2f}" if r.round_ratios else "-"
        if r.scenario == BASELINE or r.reference:
            verdict = "baseline" if r.scenario == BASELINE else "reference"
        else:
            verdict = "met" if r.meets_target else "NOT MET"
        cpu = "/".join(_cores(v) for v in (r.server_cpu, r.database_cpu, r.client_cpu, r.other_cpu))
        lines.append(
            f"{r.backend:<11}{r.scenario:<17}{r.rps:>9.1f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
            f"{r.errors:>8}{ratio:>7}{spread:>11}  {verdict:<15}{cpu:>22}"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        description="Requests/s, p50/p99 latency and errors of room creation and token issuance, "
        "as a ratio to GET /healthz on the same server.",
    )
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both")
    parser.add_argument(
        "--seconds", type=int, default=10, help="measured duration per scenario, 1-300 (default 10)"
    )
    parser.add_argument(
        "--warmup", type=int, default=2, help="warm-up per scenario in seconds, 0-60 (default 2)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="times every scenario, baseline included, is measured in turn; the ratio is the median "
        "of the rounds' ratios, 1-20 (default 3)",
    )
    parser.add_argument("--concurrency", type=int, default=16, help="open connections, 1-1024 (default 16)")
    parser.add_argument(
        "--threads", type=int, default=1, help="wrk threads (default 1: leave the CPU to the server)"
    )
    parser.add_argument(
        "--generator",
        choices=["auto", "wrk", "httpx"],
        default="auto",
        help="load generator: wrk if installed (auto), or force one",
    )
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get("CONCLAVE_BENCH_PG_DSN", DEFAULT_PG_ADMIN_DSN),
        help="PostgreSQL admin DSN used to create and drop the throwaway database "
        f"(default {DEFAULT_PG_ADMIN_DSN}, or $CONCLAVE_BENCH_PG_DSN)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument(
        "--no-references",
        action="store_true",
        help="skip the reference routes (framework-floor, auth-floor, room-floor): plain `conclave serve`",
    )
    args = parser.parse_args(argv)
    for name, low, high in (
        ("seconds", 1, 300),
        ("warmup", 0, 60),
        ("rounds", 1, 20),
        ("concurrency", 1, 1024),
        ("threads", 1, 64),
    ):
        if not low <= getattr(args, name) <= high:
            parser.error(f"--{name} must be between {low} and {high}")
    wrk = shutil.which("wrk") if args.generator in ("auto", "wrk") else None
    if args.generator == "wrk" and wrk is None:
        parser.error("--generator wrk: wrk is not installed (on Debian: apt-get install wrk)")
    try:
        pg = PostgresTarget.from_dsn(args.pg_dsn)
    except BenchmarkSetupError as exc:
        parser.error(str(exc))
    return Options(
        backends=BACKENDS if args.backend == "both" else (args.backend,),
        explicit_backend=args.backend != "both",
        seconds=args.seconds,
        warmup=args.warmup,
        rounds=args.rounds,
        concurrency=args.concurrency,
        threads=args.threads,
        wrk=wrk,
        pg=pg,
        as_json=args.json,
        references=not args.no_references,
    )


def _raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit so the ``finally`` blocks stop the server and drop the database."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    if options.wrk is not None:
        generator = f"wrk {wrk_version(options.wrk)} ({min(options.threads, options.concurrency)} thread(s))"
    else:
        generator = "asyncio + httpx (wrk not installed: apt-get install wrk; this client shares the CPU "
        generator += "with the server, so figures are lower than with wrk)"
    log(f"load generator: {generator}")
    log(
        f"concurrency {options.concurrency}, {options.rounds} round(s) of {options.seconds} s per scenario "
        f"after {options.warmup} s warm-up, "
        f"{os.cpu_count()} CPU(s) shared by server and client"
    )

    results: list[Measurement] = []
    skipped: dict[str, str] = {}
    failed: dict[str, str] = {}
    for backend in options.backends:
        if backend == "postgresql":
            problem = options.pg.probe()
            if problem is not None:
                note = f"PostgreSQL at {options.pg.host}:{options.pg.port} is unreachable ({problem})"
                if options.explicit_backend:
                    log(f"error: {note}")
                    return 2
                log(f"note: skipping postgresql: {note}")
                skipped[backend] = note
                continue
        log(f"{backend}: starting conclave serve")
        try:
            with backend_server(backend, options) as server:
                log(f"{backend}: server pid {server.pid} ready at {server.base_url}")
                results.extend(bench_backend(server, options))
        except BenchmarkSetupError as exc:
            # Keep going: the other backend's figures are still worth having.
            log(f"error: {backend}: {exc}")
            failed[backend] = str(exc)

    errors = sum(r.errors + r.warmup_errors for r in results)
    if options.as_json:
        print(
            json.dumps(
                {
                    "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "generator": generator,
                    "concurrency": options.concurrency,
                    "seconds": options.seconds,
                    "warmup_seconds": options.warmup,
                    "rounds": options.rounds,
                    "cpu_count": os.cpu_count(),
                    "target_ratio": TARGET_RATIO,
                    "errors": errors,
                    "skipped": skipped,
                    "failed": failed,
                    "results": [asdict(r) | {"meets_target": r.meets_target} for r in results],
                },
                indent=2,
            )
        )
    else:
        print(f"\nConclave API throughput -- {generator}")
        print(
            f"concurrency {options.concurrency}, {options.rounds} round(s) of {options.seconds} s per "
            f"scenario, {os.cpu_count()} CPU(s)\n"
        )
        print(format_table(results))
        for backend, note in skipped.items():
            print(f"\n{backend}: skipped -- {note}")
        for backend in failed:
            print(f"\n{backend}: FAILED to run (see the error above)")
        print(
            "\nratio = scenario req/s / healthz req/s on the same server in the same round; with several "
            "rounds, the median of the rounds' ratios, and range = the lowest and highest of them; "
            "req/s, p50 and p99 are medians over the rounds; req/s counts 2xx responses only.\n"
            "reference rows (not held to the target): framework-floor is the token route's shape "
            "(path parameter, JSON body, response model) doing no work; auth-floor adds the real "
            "project authentication; room-floor is the create-room route's shape (RoomCreate body, "
            "RoomOut response) doing no work. A route of their shape that does more work scores lower.\n"
            "cpu = cores used in the measured window by the server / its PostgreSQL backends / the load "
            "generator / unrelated processes."
        )
    if errors:
        bad = ", ".join(
            f"{r.backend}/{r.scenario}: {r.errors} measured + {r.warmup_errors} in warm-up ({r.error_detail})"
            for r in results
            if r.errors or r.warmup_errors
        )
        banner = f"\n!!!! THIS RUN HAD {errors} FAILED REQUESTS -- its figures are not valid: {bad}"
        print(banner, file=sys.stderr if options.as_json else sys.stdout, flush=True)
    if failed:
        return 2
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

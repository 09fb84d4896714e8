"""Run a real Conclave server for a benchmark, and leave nothing behind.

Why this exists: a throughput figure only means something if it is measured against the server as it
is deployed -- a separate ``conclave serve`` process with one uvicorn worker, a real database, and
credentials made through the real CLI -- rather than an in-process ASGI app. Benchmarks are also run
repeatedly and interrupted, so every resource taken here (the server process, the temporary data
directory, the throwaway PostgreSQL database) is released in a ``finally`` by its own handle: the
process by its PID, the database by its exact name.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import httpx

STARTUP_TIMEOUT_S = 60.0
CLI_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
PG_CONNECT_TIMEOUT_S = 5.0
DEFAULT_PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


class BenchmarkSetupError(RuntimeError):
    """The server or its database could not be prepared; the message says why."""


@dataclass(frozen=True)
class Credentials:
    organization_id: str
    project_id: str
    secret_key: str


@dataclass(frozen=True)
class RunningServer:
    """A ready server: where it listens, who it is, and a project to call it as."""

    backend: str
    base_url: str
    pid: int
    credentials: Credentials
    database: ThrowawayDatabase | None = None


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1 (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def conclave_command() -> list[str]:
    """The ``conclave`` entry point installed next to this interpreter, or the module as a fallback."""
    script = Path(sys.executable).with_name("conclave")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from conclave.cli import main; main()"]


def _clean_environment() -> dict[str, str]:
    """The caller's environment without any ``CONCLAVE_*`` setting that could leak into the run."""
    return {key: value for key, value in os.environ.items() if not key.startswith("CONCLAVE_")}


# -- PostgreSQL ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresTarget:
    """Where the throwaway database lives, parsed from an admin DSN such as ``postgresql://u@h:p/db``."""

    host: str
    port: int
    user: str
    password: str | None
    admin_database: str

    @classmethod
    def from_dsn(cls, dsn: str) -> PostgresTarget:
        parts = urlsplit(dsn)
        if parts.scheme not in ("postgresql", "postgres"):
            raise BenchmarkSetupError(f"not a postgresql:// DSN: {dsn!r}")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password) if parts.password else None,
            admin_database=(parts.path.lstrip("/") or "postgres"),
        )

    def sqlalchemy_url(self, database: str) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"postgresql+asyncpg://{auth}@{self.host}:{self.port}/{database}"

    async def _fetch(self, statement: str, *args: str) -> list[tuple[object, ...]]:
        import asyncpg  # type: ignore[import-untyped]

        connection = await asyncpg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=self.admin_database,
            timeout=PG_CONNECT_TIMEOUT_S,
        )
        try:
            rows = await connection.fetch(statement, *args, timeout=30)
        finally:
            await connection.close(timeout=5)
        return [tuple(row) for row in rows]

    def execute(self, statement: str) -> None:
        asyncio.run(self._fetch(statement))

    def backend_pids(self, database: str) -> list[int]:
        """PIDs of the PostgreSQL processes serving ``database`` (to account for their CPU)."""
        rows = asyncio.run(self._fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database))
        return [int(str(row[0])) for row in rows]

    def probe(self) -> str | None:
        """None if the server accepts a connection, otherwise a one-line reason."""
        try:
            self.execute("SELECT 1")
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}".strip()
        return None


@dataclass(frozen=True)
class ThrowawayDatabase:
    target: PostgresTarget
    name: str

    @property
    def url(self) -> str:
        return self.target.sqlalchemy_url(self.name)


@contextlib.contextmanager
def throwaway_database(target: PostgresTarget) -> Iterator[ThrowawayDatabase]:
    """Create ``conclave_bench_<pid>_<random>`` and drop it on the way out, whatever happened."""
    name = f"conclave_bench_{os.getpid()}_{secrets.token_hex(3)}"
    target.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ThrowawayDatabase(target, name)
    finally:
        try:
            # FORCE (PostgreSQL 13+) ends connections a killed server might have left behind.
            target.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception as exc:
            print(f"warning: could not drop PostgreSQL database {name}: {exc}", file=sys.stderr)


# -- the server process -------------------------------------------------------------------------


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    tail = text.strip().splitlines()[-lines:]
    return "\n".join("    " + line for line in tail) or "    (server log is empty)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server by PID (uvicorn shuts down gracefully), SIGKILL it if it does not go."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)


def _wait_ready(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_problem = "no answer yet"
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BenchmarkSetupError(
                    f"the server exited with code {process.returncode} while starting:\n{_log_tail(log_path)}"
                )
            try:
                response = client.get(f"{base_url}/readyz")
                if response.status_code == 200:
                    return
                last_problem = f"/readyz answered {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
            time.sleep(0.1)
    raise BenchmarkSetupError(
        f"the server was not ready within {STARTUP_TIMEOUT_S:.0f} s ({last_problem}):\n{_log_tail(log_path)}"
    )


def _cli_json(args: list[str], env: dict[str, str]) -> dict[str, str]:
    try:
        completed = subprocess.run(
            [*conclave_command(), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchmarkSetupError(
            f"`conclave {' '.join(args[:2])}` took longer than {CLI_TIMEOUT_S:.0f} s"
        ) from exc
    if completed.returncode != 0:
        # The last lines name the error; a rich traceback above them can run to a hundred lines.
        tail = "\n".join("    " + line for line in completed.stderr.strip().splitlines()[-12:])
        raise BenchmarkSetupError(f"`conclave {' '.join(args[:2])}` failed ({completed.returncode}):\n{tail}")
    try:
        result: dict[str, str] = json.loads(completed.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError) as exc:
        raise BenchmarkSetupError(
            f"`conclave {' '.join(args[:2])}` printed no JSON: {completed.stdout!r}"
        ) from exc
    return result


@contextlib.contextmanager
def running_server(
    backend: str,
    database: ThrowawayDatabase | None,
    *,
    log_level: str = "warning",
    reference_routes: bool = False,
) -> Iterator[RunningServer]:
    """Start ``conclave serve`` on a free port with a fresh data dir, make an org and a project, yield.

    ``database`` None means the embedded SQLite file in the temporary data dir. The server is one
    uvicorn process (``conclave serve`` never forks workers), so runs stay comparable.
    ``reference_routes`` serves the same app with ``_reference_server``'s two extra routes.
    """
    data_dir = Path(tempfile.mkdtemp(prefix=f"conclave-bench-{backend}-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        port = free_port()
        env = _clean_environment() | {
            "CONCLAVE_MODE": "embedded",
            "CONCLAVE_HOST": "127.0.0.1",
            "CONCLAVE_PORT": str(port),
            "CONCLAVE_DATA_DIR": str(data_dir),
            "CONCLAVE_MASTER_KEY": secrets.token_urlsafe(32),
            "CONCLAVE_ADMIN_TOKEN": secrets.token_urlsafe(32),
            "CONCLAVE_LOG_LEVEL": log_level,
        }
        if database is not None:
            env["CONCLAVE_DATABASE_URL"] = database.url
        log_path = data_dir / "server.log"
        base_url = f"http://127.0.0.1:{port}"
        with log_path.open("wb") as log:
            # Own session: a Ctrl-C reaches this script only, which then stops the server in order.
            process = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("_reference_server.py"))]
                if reference_routes
                else [*conclave_command(), "serve"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_ready(process, base_url, log_path)
        organization = _cli_json(
            ["admin", "create-organization", "--name", f"bench-{backend}", "--json"], env
        )
        project = _cli_json(
            ["admin", "create-project", "--organization", organization["id"], "--name", "bench", "--json"],
            env,
        )
        yield RunningServer(
            backend=backend,
            base_url=base_url,
            pid=process.pid,
            credentials=Credentials(organization["id"], project["id"], project["secret_key"]),
            database=database,
        )
        if process.poll() is not None:
            raise BenchmarkSetupError(
                f"the server died during the run (code {process.returncode}):\n{_log_tail(log_path)}"
            )
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(data_dir, ignore_errors=True)

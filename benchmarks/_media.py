"""Shared parts of the media benchmarks: a server with its own Janus, CPU accounting, paced sources.

Why this exists: the media benchmarks (``join_latency.py``, ``fanout.py``) need a real ``conclave
serve`` whose embedded Janus runs in a network namespace (``CONCLAVE_JANUS_NETNS``), because this
machine allows no traffic on real interfaces: media may only cross the namespace's veth, and every
client restricts ICE to the address ``GET /rtc/config`` reports. ``_server.running_server`` cannot
pass that setting (it strips every ``CONCLAVE_*`` variable and takes no extra environment), so this
module starts the server itself while reusing ``_server``'s readiness check, CLI credentials and
stop helpers.

Cleanup is by handle: the server by its PID (SIGTERM, then SIGKILL). The server stops its Janus and
deletes its namespace on the way out; if it could not (it was killed), the Janus child is killed by
the PID recorded at start and the namespace ``cnv-<server pid>-<n>`` and its host veth end are
deleted by name -- names only that server could have created.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import httpx
from aiortc import MediaStreamTrack

from conclave.sdk.tracks import PatternVideoTrack, ToneAudioTrack

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The helper sits next to this script, which is not a package.
from _server import (
    BenchmarkSetupError,
    _clean_environment,
    _cli_json,
    _log_tail,
    _stop,
    _wait_ready,
    conclave_command,
    free_port,
)

__all__ = [
    "BenchmarkSetupError",
    "CountingPatternTrack",
    "CpuSample",
    "MediaServerProcess",
    "PacedSource",
    "cpu_seconds",
    "install_sigterm_handler",
    "machine_busy_seconds",
    "media_server",
    "percentile",
    "preflight",
    "process_alive",
    "summary",
]

JANUS_DISCOVERY_TIMEOUT_S = 10.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def preflight() -> str | None:
    """None when the media benchmarks can run here, else why not (they need Janus, root and ``ip``)."""
    if shutil.which("janus") is None:
        return "the janus binary is not installed (apt-get install janus)"
    if os.geteuid() != 0:
        return "Janus runs in a network namespace here, which needs root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    if shutil.which("pgrep") is None:
        return "`pgrep` (procps) is needed to find the server's Janus"
    return None


# -- CPU accounting -------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of one process from ``/proc/<pid>/stat`` (None when it is gone).

    Why /proc and not psutil: no extra dependency, and the two fields are exactly the CPU the kernel
    charged to that process (its threads included, its children excluded).
    """
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces or parentheses: split after the last ')'.
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU time all cores spent not idle since boot (``/proc/stat``), to tell how busy the box was."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / CLK_TCK


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds of named processes plus the whole machine, at one monotonic instant."""

    at: float
    processes: dict[str, float]
    machine: float

    @classmethod
    def take(cls, pids: Mapping[str, Sequence[int]]) -> CpuSample:
        totals: dict[str, float] = {}
        for name, group in pids.items():
            totals[name] = sum(cpu_seconds(pid) or 0.0 for pid in group)
        return cls(at=time.monotonic(), processes=totals, machine=machine_busy_seconds())

    def cores_since(self, earlier: CpuSample) -> dict[str, float]:
        """Average cores each group used between ``earlier`` and this sample, plus ``machine``."""
        elapsed = max(self.at - earlier.at, 1e-9)
        cores = {
            name: (value - earlier.processes.get(name, 0.0)) / elapsed
            for name, value in self.processes.items()
        }
        cores["machine"] = (self.machine - earlier.machine) / elapsed
        return cores


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- statistics -----------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: with few samples it is an observed value, never an interpolation."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil without importing math
    return ordered[int(rank) - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    """min / median / p95 / max of a sample (in the sample's unit)."""
    return {
        "min": min(values),
        "median": statistics.median(values),
        "p95": percentile(values, 0.95),
        "max": max(values),
    }


# -- synthetic media ------------------------------------------------------------------------------


class CountingPatternTrack(PatternVideoTrack):
    """The SDK's test pattern, counting the frames the encoder actually pulled.

    Why: under CPU pressure the publisher may produce fewer frames than asked for; a subscriber's
    frame rate is only meaningful next to what was really sent.
    """

    def __init__(self, width: int, height: int, fps: int) -> None:
        super().__init__(width, height, fps)
        self.frames = 0

    async def recv(self) -> av.VideoFrame:
        frame = await super().recv()
        self.frames += 1
        return frame


class PacedSource:
    """The SDK's synthetic tone and test pattern at a chosen size and frame rate.

    Why not ``SyntheticSource``: it fixes the pattern at 30 fps, and on two shared cores twenty
    decoding subscribers need a lighter stream (e.g. 320x240 at 15 fps). Structurally a
    ``conclave.sdk.tracks.MediaSource``.
    """

    def __init__(self, *, width: int = 320, height: int = 240, fps: int = 30) -> None:
        self.width = width
        self.height = height
        self.fps = fps
        self._tracks: list[MediaStreamTrack] = []
        self.video: CountingPatternTrack | None = None

    @property
    def frames_sent(self) -> int:
        """Frames the current video track has handed to the encoder."""
        return 0 if self.video is None else self.video.frames

    def create_tracks(
        self, *, audio: bool, video: bool
    ) -> tuple[MediaStreamTrack | None, MediaStreamTrack | None]:
        audio_track = ToneAudioTrack() if audio else None
        video_track = CountingPatternTrack(self.width, self.height, self.fps) if video else None
        if video_track is not None:
            self.video = video_track
        self._tracks.extend(t for t in (audio_track, video_track) if t is not None)
        return audio_track, video_track

    def close(self) -> None:
        for track in self._tracks:
            track.stop()
        self._tracks.clear()


# -- the server -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaServerProcess:
    """A ready server with its Janus in a namespace, a project to call it as, and its ICE address."""

    base_url: str
    pid: int
    janus_pid: int
    secret_key: str
    ice_addresses: tuple[str, ...]
    data_dir: Path


def _janus_children(server_pid: int) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(server_pid), "janus"], capture_output=True, text=True, timeout=10, check=False
    )
    return [int(pid) for pid in found.stdout.split()]


def _reap_leftovers(server_pid: int, janus_pid: int | None) -> None:
    """After the server is gone: kill its Janus and delete its namespace if it could not."""
    if janus_pid is not None and process_alive(janus_pid):
        try:
            comm = Path(f"/proc/{janus_pid}/comm").read_text().strip()
        except OSError:
            comm = ""
        if comm == "janus":  # still the process we recorded, not a reused PID
            print(f"warning: killing the server's Janus (pid {janus_pid}) left behind", file=sys.stderr)
            with contextlib.suppress(ProcessLookupError):
                os.kill(janus_pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while process_alive(janus_pid) and time.monotonic() < deadline:
                time.sleep(0.05)
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10, check=False)
    for line in listed.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(f"cnv-{server_pid}-"):
            print(f"warning: deleting the server's namespace {name} left behind", file=sys.stderr)
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, timeout=10, check=False)
    links = subprocess.run(
        ["ip", "-o", "link", "show"], capture_output=True, text=True, timeout=10, check=False
    )
    for line in links.stdout.splitlines():
        parts = line.split(":")
        if len(parts) > 1:
            interface = parts[1].strip().split("@")[0]
            if interface.startswith(f"cnv{server_pid}h"):
                subprocess.run(
                    ["ip", "link", "delete", "dev", interface], capture_output=True, timeout=10, check=False
                )


def _spawn_server(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``conclave serve`` in its own session: a Ctrl-C reaches this script only, which then
    stops the server in order (a Popen handle, not asyncio's, so ``finally`` can stop it synchronously
    even while the event loop is being torn down)."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [*conclave_command(), "serve"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _cleanup(process: subprocess.Popen[bytes] | None, janus_pid: int | None, data_dir: Path) -> None:
    """Stop the server by PID, reap what it left, remove its data directory."""
    if process is not None:
        _stop(process)
        _reap_leftovers(process.pid, janus_pid)
    for _ in range(5):  # a child still closing its files may recreate one under our feet
        shutil.rmtree(data_dir, ignore_errors=True)
        if not data_dir.exists():
            return
        time.sleep(0.2)
    print(f"warning: could not remove {data_dir}", file=sys.stderr)


@contextlib.asynccontextmanager
async def media_server(
    *, log_level: str = "warning", label: str = "media"
) -> AsyncIterator[MediaServerProcess]:
    """``conclave serve`` on SQLite with its embedded Janus in a fresh namespace; yields when ready.

    The blocking helpers of ``_server`` run in a thread so the caller's event loop (and a Ctrl-C
    delivered to it) stays responsive while the server starts.
    """
    data_dir = Path(tempfile.mkdtemp(prefix=f"conclave-bench-{label}-"))
    process: subprocess.Popen[bytes] | None = None
    janus_pid: int | None = None
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
            "CONCLAVE_JANUS_NETNS": "true",
        }
        log_path = data_dir / "server.log"
        base_url = f"http://127.0.0.1:{port}"
        process = _spawn_server(env, log_path)
        await asyncio.to_thread(_wait_ready, process, base_url, log_path)
        deadline = time.monotonic() + JANUS_DISCOVERY_TIMEOUT_S
        while janus_pid is None:
            children = await asyncio.to_thread(_janus_children, process.pid)
            if children:
                janus_pid = children[0]
            elif time.monotonic() > deadline:
                raise BenchmarkSetupError(
                    "the server is ready but has no Janus child (is janus installed, are we root?):\n"
                    + _log_tail(log_path)
                )
            else:
                await asyncio.sleep(0.2)
        async with httpx.AsyncClient(timeout=10) as http:
            config = (await http.get(f"{base_url}/rtc/config")).json()
        ice = tuple(str(address) for address in config.get("ice_addresses") or [])
        if not ice:
            raise BenchmarkSetupError(
                "GET /rtc/config names no ice_addresses: media would not be confined to the namespace veth"
            )
        # Synchronously, not in a thread: a cancelled ``to_thread`` leaves its CLI child running, and
        # that child would recreate the data directory after the cleanup below. Each call is bounded
        # (``_server.CLI_TIMEOUT_S``), and a Ctrl-C takes effect as soon as it returns.
        organization = _cli_json(["admin", "create-organization", "--name", f"bench-{label}", "--json"], env)
        project = _cli_json(
            ["admin", "create-project", "--organization", organization["id"], "--name", "bench", "--json"],
            env,
        )
        yield MediaServerProcess(
            base_url=base_url,
            pid=process.pid,
            janus_pid=janus_pid,
            secret_key=project["secret_key"],
            ice_addresses=ice,
            data_dir=data_dir,
        )
        if process.poll() is not None:
            raise BenchmarkSetupError(
                f"the server died during the run (code {process.returncode}):\n{_log_tail(log_path)}"
            )
    finally:
        # Not in a thread: this must finish even while the loop is being cancelled.
        _cleanup(process, janus_pid, data_dir)


def install_sigterm_handler() -> None:
    """Turn SIGTERM into a cancellation of the main task, so every ``finally`` cleans up.

    ``asyncio.run`` already does this for Ctrl-C (SIGINT).
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)

"""Recording post-processing time, as a share of the recording's duration, against plain ffmpeg.

What it measures: how long the ``recording.process`` pipeline (``conclave.recordings.processing``:
janus-pp-rec per capture, ffprobe, one ffmpeg composition into a grid MP4 with mixed audio) takes
for a two-person recording of ``--seconds`` (default 60) seconds, as a ratio of that duration.
Target: <= 0.5x real time on a 2-core machine.

The captures are real: a ``conclave serve`` subprocess with its own Janus (in a network
namespace, so root and iproute2 are needed), two SDK participants publishing synthetic audio and
video, a recording started and stopped over the REST API. The server runs without its in-process
worker, so the raw ``.mjr`` files stay untouched for the measurement.

Baseline, same run, same inputs: the tracks janus-pp-rec extracted, transcoded by one plain
ffmpeg call per participant to H.264 + AAC (same preset, no timeline, no grid, no mix) — what a
naive "just convert the files" post-processor would cost.

    .venv/bin/python benchmarks/recording.py [--seconds 60] [--preset veryfast] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from conclave.recordings import processing
from conclave.sdk import Participant

ADMIN = "bench-admin-token"
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``conclave serve`` with Janus in a namespace and no in-process job runner."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONCLAVE_")}
        env.update(
            {
                "CONCLAVE_DATA_DIR": str(self.data_dir),
                "CONCLAVE_PORT": str(self.port),
                "CONCLAVE_JANUS_NETNS": "true",
                "CONCLAVE_MASTER_KEY": "bench-master-key-0123456789",
                "CONCLAVE_ADMIN_TOKEN": ADMIN,
                "CONCLAVE_LOG_LEVEL": "warning",
                "CONCLAVE_IN_PROCESS_WORKER": "false",
            }
        )
        log = (self.data_dir / "server.log").open("ab")
        binary = str(Path(sys.executable).with_name("conclave"))
        self.process = subprocess.Popen(
            [binary, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {(self.data_dir / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not become ready")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


async def record(server: Server, seconds: float) -> Path:
    """Two participants publish for ``seconds`` with a recording on; returns its raw folder."""
    async with httpx.AsyncClient(base_url=server.base, timeout=20) as http:
        admin = {"Authorization": f"Bearer {ADMIN}"}
        org = (await http.post("/api/v1/admin/organizations", json={"name": "bench"}, headers=admin)).json()
        project = (
            await http.post(
                "/api/v1/projects",
                json={"name": "bench"},
                headers={"Authorization": f"Bearer {org['secret']}"},
            )
        ).json()
        headers = {"Authorization": f"Bearer {project['secret_key']}"}
        room = (await http.post("/api/v1/rooms", json={"recordings_enabled": True}, headers=headers)).json()
        ice = (await http.get("/rtc/config")).json()["ice_addresses"]
        people = []
        try:
            for name in ("Alice", "Bob"):
                token = (
                    await http.post(
                        f"/api/v1/rooms/{room['id']}/token",
                        json={"u": name, "role": "moderator"},
                        headers=headers,
                    )
                ).json()["token"]
                person = Participant(server.base, token=token, ice_addresses=ice, timeout=20)
                await person.join()
                await person.publish()
                people.append(person)
            started = await http.post(f"/api/v1/rooms/{room['id']}/recordings/start", headers=headers)
            started.raise_for_status()
            await asyncio.sleep(seconds)
            stopped = await http.post(f"/api/v1/rooms/{room['id']}/recordings/stop", headers=headers)
            stopped.raise_for_status()
        finally:
            for person in people:
                await person.leave()
        return server.data_dir / "recordings" / "raw" / started.json()["id"]


async def baseline(tracks: list[processing.Track], out_dir: Path, preset: str) -> float:
    """One plain ffmpeg transcode per participant (its video + audio track) to H.264 + AAC."""
    by_feed: dict[int | None, list[processing.Track]] = {}
    for track in tracks:
        by_feed.setdefault(track.capture.feed_id, []).append(track)
    begin = time.perf_counter()
    for index, group in enumerate(by_feed.values()):
        argv = [processing.FFMPEG, "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
        for track in group:
            argv += ["-i", str(track.path)]
        argv += ["-c:v", "libx264", "-preset", preset, "-crf", "26", "-pix_fmt", "yuv420p"]
        argv += ["-c:a", "aac", "-b:a", processing.AUDIO_BITRATE, str(out_dir / f"plain-{index}.mp4")]
        await processing.run_tool(argv, time_limit=3600, what="baseline ffmpeg")
    return time.perf_counter() - begin


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="recording length (default 60)")
    parser.add_argument("--preset", default="veryfast", help="x264 preset (the server default: veryfast)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    for tool in (processing.PP_REC, processing.FFMPEG, processing.FFPROBE, "janus"):
        if shutil.which(tool) is None:
            print(f"missing {tool}: apt-get install janus janus-tools ffmpeg", file=sys.stderr)
            return 2
    work = Path(tempfile.mkdtemp(prefix="conclave-bench-rec-"))
    server = Server(work / "data")
    server.data_dir.mkdir()
    try:
        print(f"recording {args.seconds:.0f} s with two publishers ...", file=sys.stderr)
        server.start()
        raw = await record(server, args.seconds)
        server.stop()
        captures = await processing.scan(raw)
        print(f"{len(captures)} captures in {raw}", file=sys.stderr)

        # The pipeline exactly as the job runs it (processing.process), stage by stage.
        begin = time.perf_counter()
        pipeline_dir = work / "pipeline"
        pipeline_dir.mkdir()
        captures = await processing.scan(raw)
        tracks = await processing.extract(captures, pipeline_dir / "tracks", time_limit=3600)
        extracted = time.perf_counter()
        output = await processing.compose(
            tracks, pipeline_dir, video=True, preset=args.preset, time_limit=3600
        )
        pipeline = time.perf_counter() - begin
        extraction = extracted - begin
        duration = output.duration

        plain = await baseline(tracks, work / "pipeline" / "tracks", args.preset)
        figures: dict[str, Any] = {
            "recording_seconds": round(duration, 2),
            "captures": len(captures),
            "pipeline_seconds": round(pipeline, 2),
            "extraction_seconds": round(extraction, 2),
            "composition_seconds": round(pipeline - extraction, 2),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "pipeline_x_realtime": round(pipeline / duration, 3),
            "baseline_seconds": round(plain, 2),
            "baseline_x_realtime": round(plain / duration, 3),
            "pipeline_vs_baseline": round(pipeline / plain, 2),
            "target_x_realtime": 0.5,
            "target_met": pipeline / duration <= 0.5,
            "preset": args.preset,
            "cpus": os.cpu_count(),
        }
        if args.json:
            print(json.dumps(figures, indent=2))
        else:
            print(f"recording           {figures['recording_seconds']:.1f} s, {len(captures)} captures")
            print(
                f"pipeline            {pipeline:6.2f} s  = {figures['pipeline_x_realtime']:.3f}x real time"
                f"  (target <= 0.5x: {'met' if figures['target_met'] else 'NOT MET'})"
            )
            print(
                f"  janus-pp-rec+probe {extraction:6.2f} s, ffmpeg composition {pipeline - extraction:6.2f} s"
            )
            print(f"baseline (ffmpeg)   {plain:6.2f} s  = {figures['baseline_x_realtime']:.3f}x real time")
            print(f"load average (1 min) {figures['load_average_1m']} on {figures['cpus']} cpus")
            print(f"pipeline / baseline {figures['pipeline_vs_baseline']:.2f}")
        return 0
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

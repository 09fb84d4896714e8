"""Join latency: from asking for a token to the first decoded video frame, through Conclave vs Janus directly.

Why: the time a participant waits before seeing anyone is the first thing a user notices, and
Conclave stands between the client and Janus for all of the signalling (REST token, ``/rtc`` join,
subscribe, SDP and ICE relay). This measures what that costs on top of the media server itself.

Conclave path, per trial (one publisher already publishing through Conclave):
``POST /api/v1/rooms/{id}/token`` (SDK ``ConclaveClient``) -> ``Participant.join(subscribe=True)`` on
``/rtc`` (join and subscribe in one message, as the meeting page and ``conclave bot`` do) -> the SDK
answers the server's ``subscriber_offer`` -> first video frame decoded.

Baseline, same run, same machine: our own Janus (``LocalJanus`` in our own network namespace) driven
through ``JanusMediaServer`` with no Conclave in between: a publisher joined over the adapter, then per
trial an aiortc subscriber: ``subscribe`` (new Janus session + handle, as Conclave does inside) ->
answer -> ``start`` -> first video frame decoded. ICE candidate handling is the SDK's own code
(``_RemoteCandidates``), so the two paths differ only by what Conclave adds.

Both publishers send the SDK's synthetic tone + 320x240 test pattern at 30 fps. Trials alternate the
order of the two paths so that load changes on a shared machine hit both alike. Media only crosses the
namespace veths: every peer restricts ICE to the host end reported by ``GET /rtc/config`` (Conclave)
or of our namespace (baseline), and every local SDP is checked to offer nothing else.

Targets: median(conclave) / median(baseline) <= 1.25, and median(conclave) < 1 s.

    .venv/bin/python benchmarks/join_latency.py [--trials 40] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _media import (
    BenchmarkSetupError,
    CpuSample,
    MediaServerProcess,
    PacedSource,
    install_sigterm_handler,
    media_server,
    preflight,
    summary,
)

TARGET_RATIO = 1.25
TARGET_MEDIAN_S = 1.0
TRIAL_TIMEOUT_S = 30.0
SETUP_TIMEOUT_S = 60.0
LEAVE_TIMEOUT_S = 15.0
POLL_S = 0.002  # how often the first-frame wait looks at the frame counter (same for both paths)
PAUSE_S = 0.3  # between trials, so a leaving subscriber's teardown does not overlap the next join
WIDTH, HEIGHT, FPS = 320, 240, 30
# Trials start PAUSE_S plus a random part of one frame interval apart. A trial that starts a fixed
# time after the previous one ended, on a frame, starts at the same phase of the publisher's frame
# clock every time: the wait for the next frame after the keyframe request is then not random but
# locked to one value, which differs between the two paths (each has its own publisher) and biases
# the ratio by up to a frame interval either way. A joiner's arrival is unrelated to the frame clock.
PHASE_JITTER_S = 1.0 / FPS


@dataclass
class Trial:
    """One measured join; ``phases`` are cumulative seconds from the start of the trial."""

    path: str
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)


async def first_video_frame(count: Callable[[], int], within: float) -> float:
    """``perf_counter()`` at which ``count()`` first reads >= 1, polled every ``POLL_S``.

    Polling (rather than hooking the decoder) is what the SDK allows from outside; it is done the same
    way on both paths, so its <= 2 ms granularity does not bias the ratio.
    """
    async with asyncio.timeout(within):
        while count() < 1:  # noqa: ASYNC110 -- the SDK offers a counter, not an event
            await asyncio.sleep(POLL_S)
    return time.perf_counter()


# -- Conclave path --------------------------------------------------------------------------------


class ConclavePath:
    """A room on the server with one SDK publisher; each trial joins a fresh SDK subscriber."""

    def __init__(self, server: MediaServerProcess) -> None:
        from conclave.sdk import ConclaveClient

        self.server = server
        self.api = ConclaveClient(server.base_url, server.secret_key, timeout=10.0)
        self.room_id = ""
        self.publisher: Any = None

    async def start(self) -> None:
        from conclave.sdk import Participant

        room = await self.api.create_room(description="join-latency bench")
        self.room_id = str(room["id"])
        issued = await self.api.issue_token(self.room_id, name="bench-publisher", role="moderator")
        self.publisher = Participant(
            self.server.base_url,
            token=issued.token,
            ice_addresses=self.server.ice_addresses,
            timeout=20.0,
            auto_resume=False,
        )
        await self.publisher.join()
        await self.publisher.publish(source=PacedSource(width=WIDTH, height=HEIGHT, fps=FPS))

    async def trial(self, index: int) -> Trial:
        from conclave.sdk import Participant

        begin = time.perf_counter()
        issued = await self.api.issue_token(self.room_id, name=f"bench-sub-{index}", role="attendee")
        token_at = time.perf_counter()
        subscriber = Participant(
            self.server.base_url,
            token=issued.token,
            ice_addresses=self.server.ice_addresses,
            timeout=TRIAL_TIMEOUT_S,
            auto_resume=False,
        )
        offered: list[float] = []
        subscriber.on("subscriber_offer", lambda _: offered.append(time.perf_counter()))
        try:
            await subscriber.join(subscribe=True)
            joined_at = time.perf_counter()
            frame_at = await first_video_frame(lambda: subscriber.frames_received.video, TRIAL_TIMEOUT_S)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(subscriber.leave(), LEAVE_TIMEOUT_S)
        return Trial(
            "conclave",
            frame_at - begin,
            {
                "token": token_at - begin,
                "joined": joined_at - begin,
                "offer": offered[0] - begin,
                "first_frame": frame_at - begin,
            },
        )

    async def close(self) -> None:
        if self.publisher is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.publisher.leave(), LEAVE_TIMEOUT_S)
        await self.api.aclose()


# -- baseline: Janus directly ---------------------------------------------------------------------


class DirectPath:
    """Our own Janus in our own namespace, used through ``JanusMediaServer`` as a bare client would.

    Janus trickles its candidates (``full_trickle``) as events that may arrive before the request that
    created the handle has returned, so they are buffered per handle in the SDK's own candidate queue.
    """

    ROOM_KEY = "join-latency-baseline"

    def __init__(self) -> None:
        self._stack = contextlib.AsyncExitStack()
        self.media: Any = None
        self.allowed: frozenset[str] = frozenset()
        self._sinks: dict[int, Any] = {}
        self._webrtc_up: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._publisher_pc: Any = None
        self._source = PacedSource(width=WIDTH, height=HEIGHT, fps=FPS)
        self.feed_id = 0

    async def start(self) -> None:
        from conclave.media.janus.adapter import JanusMediaServer
        from conclave.media.local import LocalJanus
        from conclave.media.netns import NetworkNamespace

        # Teardown registered before each start: a start cancelled half way still gets undone.
        namespace = NetworkNamespace()
        self._stack.push_async_callback(namespace.close)  # by name; kills anything left inside
        await namespace.create()
        janus = LocalJanus(netns=namespace, startup_timeout=30.0)
        self._stack.push_async_callback(janus.stop)  # by PID, then its temporary config directory
        await janus.start()
        self.allowed = frozenset({namespace.host_ip})
        self.media = await JanusMediaServer.connect(janus.node_settings())
        self._stack.push_async_callback(self.media.aclose)
        self.media.add_event_listener(self._on_event)
        await self.media.create_room(self.ROOM_KEY, audio_only=False, max_publishers=4, record_dir=None)
        await self._publish()

    def _sink(self, handle_id: int) -> Any:
        from conclave.sdk.participant import _RemoteCandidates

        sink = self._sinks.get(handle_id)
        if sink is None:
            sink = self._sinks[handle_id] = _RemoteCandidates()
        return sink

    def _on_event(self, event: Any) -> None:
        from conclave.media.port import MediaEventKind

        if event.handle is None:
            return
        handle_id = event.handle.handle_id
        if event.kind == MediaEventKind.TRICKLE:
            candidate = event.data.get("candidate")
            payload = (
                None
                if candidate is None
                else {
                    "candidate": candidate.candidate,
                    "sdpMid": candidate.sdp_mid,
                    "sdpMLineIndex": candidate.sdp_mline_index,
                }
            )
            task = asyncio.get_running_loop().create_task(self._sink(handle_id).add(payload))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif event.kind == MediaEventKind.WEBRTC_UP:
            self._webrtc_up.add(handle_id)

    async def _set_local(self, pc: Any, description: Any) -> None:
        from conclave.media.ice import restrict_host_addresses
        from conclave.sdk.participant import candidate_addresses

        with restrict_host_addresses(self.allowed):
            await pc.setLocalDescription(description)
        offered = candidate_addresses(pc.localDescription.sdp)
        if not offered or not offered <= self.allowed:
            raise BenchmarkSetupError(
                f"the baseline peer offered {offered}, allowed only {set(self.allowed)}"
            )

    async def _publish(self) -> None:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

        pc = self._publisher_pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        for track in self._source.create_tracks(audio=True, video=True):
            if track is not None:
                pc.addTransceiver(track, direction="sendonly")
        await self._set_local(pc, await pc.createOffer())
        result = await self.media.join_publisher(self.ROOM_KEY, "bench-publisher", pc.localDescription.sdp)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=result.sdp_answer, type="answer"))
        await self._sink(result.handle.handle_id).attach(pc)
        await self.media.trickle(result.handle, None)
        self.feed_id = result.feed_id
        async with asyncio.timeout(SETUP_TIMEOUT_S):  # Janus refuses subscribers before WEBRTC_UP
            while pc.connectionState != "connected" or result.handle.handle_id not in self._webrtc_up:
                if pc.connectionState in ("failed", "closed"):
                    raise BenchmarkSetupError(f"the baseline publisher connection {pc.connectionState}")
                await asyncio.sleep(0.02)

    async def trial(self, index: int) -> Trial:
        import av
        from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
        from aiortc.mediastreams import MediaStreamError

        frames = 0
        consumers: list[asyncio.Task[None]] = []
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))

        async def consume(track: MediaStreamTrack) -> None:
            nonlocal frames
            with contextlib.suppress(MediaStreamError):
                while True:
                    if isinstance(await track.recv(), av.VideoFrame):
                        frames += 1

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            consumers.append(asyncio.get_running_loop().create_task(consume(track)))

        handle = None
        begin = time.perf_counter()
        try:
            offer = await self.media.subscribe(self.ROOM_KEY, [self.feed_id])
            handle = offer.handle
            offered_at = time.perf_counter()
            # The same steps, in the same order, as Participant._answer_offer.
            from conclave.media.ice import restrict_host_addresses

            with restrict_host_addresses(self.allowed):
                await pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp_offer, type="offer"))
                await self._sink(handle.handle_id).attach(pc)
            await self._set_local(pc, await pc.createAnswer())
            await self.media.start_subscriber(handle, pc.localDescription.sdp)
            await self.media.trickle(handle, None)
            started_at = time.perf_counter()
            frame_at = await first_video_frame(lambda: frames, TRIAL_TIMEOUT_S)
        finally:
            if handle is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.media.leave(handle), LEAVE_TIMEOUT_S)
                self._sinks.pop(handle.handle_id, None)
            for task in consumers:
                task.cancel()
            await asyncio.gather(*consumers, return_exceptions=True)
            await pc.close()
        return Trial(
            "baseline",
            frame_at - begin,
            {"offer": offered_at - begin, "started": started_at - begin, "first_frame": frame_at - begin},
        )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._publisher_pc is not None:
            await self._publisher_pc.close()
        self._source.close()
        await self._stack.aclose()  # adapter, then Janus (by its PID), then the namespace (by name)


# -- the run --------------------------------------------------------------------------------------


def _ms(value: float) -> float:
    return round(value * 1000.0, 1)


def _phase_medians(trials: list[Trial]) -> dict[str, float]:
    import statistics

    names = trials[0].phases.keys() if trials else []
    return {name: _ms(statistics.median(t.phases[name] for t in trials)) for name in names}


async def run(trials: int, warmup: int) -> dict[str, Any]:
    install_sigterm_handler()
    log = sys.stderr
    results: dict[str, list[Trial]] = {"conclave": [], "baseline": []}
    failures: list[str] = []
    load_before = os.getloadavg()[0]
    phase = random.Random(20261207)  # the same start phases in every run
    async with media_server(label="join") as server:
        conclave = ConclavePath(server)
        direct = DirectPath()
        try:
            print(
                f"server pid {server.pid}, Janus pid {server.janus_pid}, ICE {server.ice_addresses}", file=log
            )
            async with asyncio.timeout(SETUP_TIMEOUT_S):
                await conclave.start()
            async with asyncio.timeout(SETUP_TIMEOUT_S):
                await direct.start()
            paths: dict[str, ConclavePath | DirectPath] = {"conclave": conclave, "baseline": direct}
            for index in range(warmup):
                for name, path in paths.items():
                    trial = await asyncio.wait_for(path.trial(-1 - index), TRIAL_TIMEOUT_S * 2)
                    print(f"warm-up {name}: {_ms(trial.seconds)} ms", file=log)
            cpu_before = CpuSample.take({"server": [server.pid], "janus": [server.janus_pid]})
            for index in range(trials):
                order = ["conclave", "baseline"] if index % 2 == 0 else ["baseline", "conclave"]
                for name in order:
                    await asyncio.sleep(PAUSE_S + phase.uniform(0.0, PHASE_JITTER_S))
                    try:
                        trial = await asyncio.wait_for(paths[name].trial(index), TRIAL_TIMEOUT_S * 2)
                    except (TimeoutError, Exception) as exc:
                        failures.append(f"{name} trial {index}: {type(exc).__name__}: {exc}")
                        print(f"trial {index} {name}: FAILED {type(exc).__name__}: {exc}", file=log)
                        continue
                    results[name].append(trial)
                    print(f"trial {index} {name}: {_ms(trial.seconds)} ms", file=log)
            cores = CpuSample.take({"server": [server.pid], "janus": [server.janus_pid]}).cores_since(
                cpu_before
            )
        finally:
            await conclave.close()
            await direct.close()
    figures: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "trials": trials,
        "video": f"{WIDTH}x{HEIGHT}@{FPS}",
        "cpus": os.cpu_count(),
        "load_average_1m_before": round(load_before, 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "machine_cores_busy_during_trials": round(cores["machine"], 2),
        "failures": failures,
    }
    for name, measured in results.items():
        if measured:
            figures[name] = {
                "n": len(measured),
                **{key: _ms(value) for key, value in summary([t.seconds for t in measured]).items()},
                "phases_median_ms": _phase_medians(measured),
                "samples_ms": [_ms(t.seconds) for t in measured],
            }
    if results["conclave"] and results["baseline"]:
        ratio = figures["conclave"]["median"] / figures["baseline"]["median"]
        figures["ratio_median"] = round(ratio, 2)
        # On loopback the baseline is ~0.1 s, so the ratio magnifies small absolute costs: show both.
        overhead = figures["conclave"]["median"] - figures["baseline"]["median"]
        figures["overhead_median_ms"] = round(overhead, 1)
        figures["target_ratio"] = TARGET_RATIO
        figures["ratio_met"] = ratio <= TARGET_RATIO
        figures["median_under_1s"] = figures["conclave"]["median"] < TARGET_MEDIAN_S * 1000
    return figures


def print_table(figures: dict[str, Any]) -> None:
    print(f"join latency: token request -> first decoded video frame ({figures['video']}), "
          f"{figures['trials']} trials, {figures['cpus']} cpus")  # fmt: skip
    print(
        f"{'path':<10} {'n':>3} {'min ms':>8} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}"
        "  phases (median ms)"
    )
    for name in ("conclave", "baseline"):
        row = figures.get(name)
        if row is None:
            print(f"{name:<10} no successful trial")
            continue
        phases = ", ".join(f"{k} {v:g}" for k, v in row["phases_median_ms"].items())
        print(
            f"{name:<10} {row['n']:>3} {row['min']:>8.1f} {row['median']:>10.1f} {row['p95']:>8.1f} "
            f"{row['max']:>8.1f}  {phases}"
        )
    if "ratio_median" in figures:
        met = "met" if figures["ratio_met"] else "NOT MET"
        under = "met" if figures["median_under_1s"] else "NOT MET"
        print(f"ratio median(conclave)/median(baseline) = {figures['ratio_median']:.2f}  "
              f"(target <= {TARGET_RATIO}: {met}); conclave median < 1 s: {under}; "
              f"Conclave adds {figures['overhead_median_ms']:g} ms at the median")  # fmt: skip
    print(
        f"machine: load average {figures['load_average_1m_before']} -> {figures['load_average_1m_after']}, "
        f"{figures['machine_cores_busy_during_trials']} of {figures['cpus']} cores busy during the trials"
    )
    if figures["failures"]:
        print(f"!!!! {len(figures['failures'])} FAILED TRIALS -- figures are not valid:")
        for failure in figures["failures"]:
            print(f"  {failure}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    # 40: the time from the offer to the first frame varies by about 30 ms from trial to trial on both
    # paths (it waits for the publisher's next frame after the keyframe request), which moves the
    # median of 20 trials, and so the ratio, by about +-0.05 between runs; 40 trials narrow it by ~30 %.
    parser.add_argument("--trials", type=int, default=40, help="measured trials per path (default 40)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured trials per path first (default 1)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    args = parser.parse_args()
    if not 1 <= args.trials <= 1000 or not 0 <= args.warmup <= 10:
        parser.error("--trials must be 1..1000 and --warmup 0..10")
    problem = preflight()
    if problem is not None:
        print(f"cannot run: {problem}", file=sys.stderr)
        return 2
    try:
        figures = asyncio.run(run(args.trials, args.warmup))
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
    return 1 if figures["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())

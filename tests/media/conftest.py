"""Fixtures for media tests: a real local Janus and real aiortc peers.

Async fixtures here run on the *module* event loop (``loop_scope="module"``), and every
test module marks its tests with ``pytest.mark.asyncio(loop_scope="module")``: the Janus
child process and the WebSocket client must live on the loop the tests use.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import av
import numpy as np
import pytest
import pytest_asyncio
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp

from conclave.media.janus.adapter import JanusMediaServer
from conclave.media.local import JanusNotInstalled, LocalJanus, find_janus_layout
from conclave.media.port import IceCandidate, MediaEvent, MediaEventKind

JANUS_START_TIMEOUT = 30.0
VIDEO_SIZE = (320, 240)


def require_janus() -> None:
    """Skip (locally) or fail (CI=true) when the Janus package is not installed."""
    try:
        find_janus_layout()
    except JanusNotInstalled as exc:
        message = f"Janus is required for media tests: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def loopback_ice() -> Iterator[None]:
    """Make aiortc gather host candidates on 127.0.0.1 only.

    aioice deliberately skips 127.0.0.1, which leaves no candidate at all in a sandbox
    whose only interface is loopback; Janus is configured with ice_enforce_list = lo.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("aioice.ice.get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])
        yield


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def local_janus() -> AsyncIterator[LocalJanus]:
    require_janus()
    janus = LocalJanus()
    await asyncio.wait_for(janus.start(), JANUS_START_TIMEOUT)
    try:
        yield janus
    finally:
        await janus.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def media(local_janus: LocalJanus) -> AsyncIterator[JanusMediaServer]:
    server = await JanusMediaServer.connect(local_janus.node_settings())
    try:
        yield server
    finally:
        await server.aclose()


@pytest.fixture
def room_key() -> str:
    return f"room-{uuid.uuid4().hex[:12]}"


class EventLog:
    """Collects media events so tests can wait for a specific one."""

    def __init__(self) -> None:
        self.events: list[MediaEvent] = []
        self._changed = asyncio.Condition()

    def __call__(self, event: MediaEvent) -> None:
        self.events.append(event)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, kind: MediaEventKind, timeout: float = 10.0, **match: object) -> MediaEvent:
        def found() -> MediaEvent | None:
            for event in self.events:
                if event.kind == kind and all(getattr(event, k) == v for k, v in match.items()):
                    return event
            return None

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: found() is not None)
        result = found()
        assert result is not None
        return result


@pytest.fixture
def events(media: JanusMediaServer) -> Iterator[EventLog]:
    log = EventLog()
    remove = media.add_event_listener(log)
    yield log
    remove()


class PatternVideoTrack(VideoStreamTrack):
    """A moving colour pattern, so the VP8 encoder produces real, changing frames."""

    def __init__(self) -> None:
        super().__init__()
        self._index = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        width, height = VIDEO_SIZE
        x = np.arange(width, dtype=np.uint16)
        y = np.arange(height, dtype=np.uint16)[:, None]
        image = np.zeros((height, width, 3), dtype=np.uint8)
        image[..., 0] = ((x + self._index * 4) % 256).astype(np.uint8)
        image[..., 1] = ((y + self._index * 2) % 256).astype(np.uint8)
        image[..., 2] = 128
        self._index += 1
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = pts
        frame.time_base = time_base
        return frame


class ToneAudioTrack(MediaStreamTrack):
    """A 440 Hz tone in 20 ms Opus-friendly frames (48 kHz mono s16)."""

    kind = "audio"
    _rate = 48000
    _samples = 960

    def __init__(self) -> None:
        super().__init__()
        self._sent = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        else:
            await asyncio.sleep(max(0.0, self._start + self._sent / self._rate - loop.time()))
        t = (np.arange(self._samples) + self._sent) / self._rate
        samples = (np.sin(2 * math.pi * 440 * t) * 8000).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = self._rate
        frame.pts = self._sent
        frame.time_base = fractions.Fraction(1, self._rate)
        self._sent += self._samples
        return frame


@dataclass
class Subscriber:
    """An aiortc peer receiving a Janus multistream subscription."""

    pc: RTCPeerConnection
    video_frames: int = 0
    frame_sizes: set[tuple[int, int]] = field(default_factory=set)
    audio_frames: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def wait_video_frames(self, count: int, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while self.video_frames < count:
                await asyncio.sleep(0.05)


class RtcPeers:
    """Creates aiortc peers against the adapter and closes them all at teardown."""

    def __init__(self, media: JanusMediaServer) -> None:
        self._media = media
        self._pcs: list[RTCPeerConnection] = []
        self._tasks: list[asyncio.Task[None]] = []

    def _new_pc(self) -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._pcs.append(pc)
        return pc

    async def publish_offer(self, *, audio: bool = True, video: bool = True) -> RTCPeerConnection:
        """A publisher with its complete (non-trickle) offer set as local description."""
        pc = self._new_pc()
        if audio:
            pc.addTransceiver(ToneAudioTrack(), direction="sendonly")
        if video:
            pc.addTransceiver(PatternVideoTrack(), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        return pc

    async def answer(self, pc: RTCPeerConnection, sdp_answer: str) -> None:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp_answer, type="answer"))

    async def subscriber(self, sdp_offer: str) -> tuple[Subscriber, str]:
        """Answer a Janus subscriber offer; returns the peer and its SDP answer."""
        sub = Subscriber(pc=self._new_pc())

        @sub.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            task = asyncio.get_running_loop().create_task(self._consume(sub, track))
            self._tasks.append(task)

        await self.renegotiate(sub, sdp_offer)
        return sub, sub.pc.localDescription.sdp

    async def renegotiate(self, sub: Subscriber, sdp_offer: str) -> str:
        await sub.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp_offer, type="offer"))
        await sub.pc.setLocalDescription(await sub.pc.createAnswer())
        return str(sub.pc.localDescription.sdp)

    async def _consume(self, sub: Subscriber, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, av.VideoFrame):
                    sub.video_frames += 1
                    sub.frame_sizes.add((frame.width, frame.height))
                else:
                    sub.audio_frames += 1
        except MediaStreamError:
            return

    async def add_remote_candidate(self, pc: RTCPeerConnection, candidate: IceCandidate | None) -> None:
        """Feed a candidate trickled by Janus to aiortc, as a browser would."""
        if candidate is None:
            return
        sdp_line = candidate.candidate.removeprefix("candidate:")
        rtc_candidate = candidate_from_sdp(sdp_line)
        rtc_candidate.sdpMid = candidate.sdp_mid
        rtc_candidate.sdpMLineIndex = candidate.sdp_mline_index
        await pc.addIceCandidate(rtc_candidate)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(pc.close() for pc in self._pcs), return_exceptions=True)


def video_transceivers(pc: RTCPeerConnection) -> list[RTCRtpTransceiver]:
    return [t for t in pc.getTransceivers() if t.kind == "video"]


@pytest_asyncio.fixture(loop_scope="module")
async def rtc(media: JanusMediaServer, loopback_ice: None) -> AsyncIterator[RtcPeers]:
    peers = RtcPeers(media)
    try:
        yield peers
    finally:
        await asyncio.wait_for(peers.close(), 10)

"""aiortc peers and event helpers for the media tests (imported by conftest and tests)."""

from __future__ import annotations

import asyncio
import fractions
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import av
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp

from conclave.media.ice import restrict_host_addresses
from conclave.media.port import IceCandidate, MediaEvent, MediaEventKind, MediaServer, PublishResult

VIDEO_SIZE = (320, 240)


async def eventually(predicate: Callable[[], bool], within: float, what: str, interval: float = 0.05) -> None:
    """Poll ``predicate`` until it holds; fail the test with ``what`` after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        if predicate():
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within:g}s waiting for {what}")
        await asyncio.sleep(interval)


class EventLog:
    """Collects media events so tests can wait for a specific one."""

    def __init__(self) -> None:
        self.events: list[MediaEvent] = []

    def __call__(self, event: MediaEvent) -> None:
        self.events.append(event)

    def find(self, kind: MediaEventKind, **match: object) -> MediaEvent | None:
        for event in self.events:
            if event.kind == kind and all(getattr(event, k) == v for k, v in match.items()):
                return event
        return None

    async def wait_for(self, kind: MediaEventKind, within: float = 10.0, **match: object) -> MediaEvent:
        await eventually(
            lambda: self.find(kind, **match) is not None, within, f"{kind} event matching {match}"
        )
        found = self.find(kind, **match)
        assert found is not None
        return found


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
    last_video_at: float = 0.0
    frame_sizes: set[tuple[int, int]] = field(default_factory=set)
    audio_frames: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def wait_video_frames(self, count: int, within: float) -> None:
        await eventually(lambda: self.video_frames >= count, within, f"{count} decoded video frames")

    async def wait_video_stalled(self, quiet: float, within: float) -> None:
        """Wait until no video frame has been decoded for ``quiet`` seconds."""
        loop = asyncio.get_running_loop()
        await eventually(lambda: loop.time() - self.last_video_at >= quiet, within, "video to stop")

    async def wait_audio_frames(self, count: int, within: float) -> None:
        await eventually(lambda: self.audio_frames >= count, within, f"{count} decoded audio frames")


def candidate_addresses(sdp: str) -> set[str]:
    """The connection addresses of the ``a=candidate`` lines of an SDP."""
    return {
        line.split()[4] for line in sdp.splitlines() if line.startswith("a=candidate:")
    }  # foundation component transport priority ADDRESS port typ ...


class RtcPeers:
    """Creates aiortc peers against the adapter and closes them all at teardown.

    ``host_addresses`` are the only local addresses the peers may use for ICE (in the media
    tests: the host end of the Janus namespace's veth). aiortc gathers when a local
    description is set, so every ``setLocalDescription`` runs inside
    :func:`restrict_host_addresses`, and the resulting SDP is checked to hold no other address.
    """

    def __init__(self, media: MediaServer, *, host_addresses: Collection[str]) -> None:
        if not host_addresses:
            raise ValueError("the test peers need the addresses they may use for ICE")
        self._media = media
        self._host_addresses = frozenset(host_addresses)
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
        await self._set_local_description(pc, await pc.createOffer())
        return pc

    async def _set_local_description(self, pc: RTCPeerConnection, description: RTCSessionDescription) -> None:
        """Set (and so gather for) a local description with ICE confined to ``host_addresses``."""
        with restrict_host_addresses(self._host_addresses):
            await pc.setLocalDescription(description)
        offered = candidate_addresses(pc.localDescription.sdp)
        assert offered, "the peer gathered no ICE candidate on the allowed addresses"
        assert offered <= self._host_addresses, f"peer offered {offered}, allowed {self._host_addresses}"

    async def answer(self, pc: RTCPeerConnection, sdp_answer: str) -> None:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp_answer, type="answer"))

    async def publish(
        self,
        room_key: str,
        display: str,
        *,
        audio: bool = True,
        video: bool = True,
        via: MediaServer | None = None,
    ) -> tuple[RTCPeerConnection, PublishResult]:
        """Join ``room_key`` through the adapter (or ``via`` another one) and complete the offer/answer."""
        pc = await self.publish_offer(audio=audio, video=video)
        result = await (via or self._media).join_publisher(room_key, display, pc.localDescription.sdp)
        await self.answer(pc, result.sdp_answer)
        return pc, result

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
        await self._set_local_description(sub.pc, await sub.pc.createAnswer())
        return str(sub.pc.localDescription.sdp)

    async def _consume(self, sub: Subscriber, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, av.VideoFrame):
                    sub.video_frames += 1
                    sub.last_video_at = asyncio.get_running_loop().time()
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

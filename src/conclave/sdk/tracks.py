"""Media a participant publishes: a synthetic test pattern and tone, or a media file.

Why synthetic media: a bot or a test needs real, changing RTP (so the VP8 encoder emits real
frames and receivers decode them) without a camera or microphone. Why a *source* rather
than tracks: a resumed participant must publish again on a new peer connection, and aiortc
tracks are single-use once their peer connection closes, so a source makes fresh tracks on
every :meth:`MediaSource.create_tracks`.
"""

from __future__ import annotations

import asyncio
import fractions
import math
from pathlib import Path
from typing import Protocol

import av
import numpy as np
from aiortc import MediaStreamTrack, VideoStreamTrack
from aiortc.contrib.media import MediaPlayer

__all__ = ["FileSource", "MediaSource", "PatternVideoTrack", "SyntheticSource", "ToneAudioTrack"]

VIDEO_CLOCK_RATE = 90000
MAX_LAG = 0.1  # seconds behind real time after which a synthetic track resynchronises


class PatternVideoTrack(VideoStreamTrack):
    """A moving colour gradient at 30 fps: every frame differs, so the encoder sends real frames."""

    def __init__(self, width: int = 320, height: int = 240, fps: int = 30) -> None:
        super().__init__()
        self.width = width
        self.height = height
        self.fps = fps
        self._clock_start: float | None = None
        self._clock_ts = 0
        self._index = 0
        self._x = np.arange(width, dtype=np.uint16)
        self._y = np.arange(height, dtype=np.uint16)[:, None]

    async def _paced_timestamp(self) -> tuple[int, fractions.Fraction]:
        """Real-time pacing that resynchronises instead of bursting after a pause.

        aiortc's ``next_timestamp`` catches up on every frame missed while nobody pulled
        (e.g. while muted, the sender stops reading), encoding them all at once.
        """
        loop = asyncio.get_running_loop()
        if self._clock_start is None:
            self._clock_start = loop.time()
        else:
            self._clock_ts += int(VIDEO_CLOCK_RATE / self.fps)
            wait = self._clock_start + self._clock_ts / VIDEO_CLOCK_RATE - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -MAX_LAG:
                self._clock_start -= wait
        return self._clock_ts, fractions.Fraction(1, VIDEO_CLOCK_RATE)

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self._paced_timestamp()
        image = np.empty((self.height, self.width, 3), dtype=np.uint8)
        image[..., 0] = ((self._x + self._index * 4) % 256).astype(np.uint8)
        image[..., 1] = ((self._y + self._index * 2) % 256).astype(np.uint8)
        image[..., 2] = 128
        self._index += 1
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = pts
        frame.time_base = time_base
        return frame


class ToneAudioTrack(MediaStreamTrack):
    """A sine tone in 20 ms frames of 48 kHz mono s16 (what Opus encodes without resampling)."""

    kind = "audio"

    def __init__(self, frequency: float = 440.0, sample_rate: int = 48000, amplitude: int = 8000) -> None:
        super().__init__()
        self.frequency = frequency
        self.sample_rate = sample_rate
        self.amplitude = amplitude
        self._samples = sample_rate // 50
        self._sent = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        else:  # pace in real time: the sender pulls as fast as recv returns
            wait = self._start + self._sent / self.sample_rate - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -MAX_LAG:  # after a pause (muted): resync rather than burst
                self._start -= wait
        t = (np.arange(self._samples) + self._sent) / self.sample_rate
        samples = (np.sin(2 * math.pi * self.frequency * t) * self.amplitude).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = self.sample_rate
        frame.pts = self._sent
        frame.time_base = fractions.Fraction(1, self.sample_rate)
        self._sent += self._samples
        return frame


class MediaSource(Protocol):
    """Makes the tracks one publish sends; called again for every (re)publish."""

    def create_tracks(
        self, *, audio: bool, video: bool
    ) -> tuple[MediaStreamTrack | None, MediaStreamTrack | None]:
        """Fresh ``(audio, video)`` tracks; ``None`` for a kind not wanted or not available."""
        ...

    def close(self) -> None:
        """Release what the tracks hold (decoders, files)."""
        ...


class SyntheticSource:
    """:class:`ToneAudioTrack` + :class:`PatternVideoTrack`."""

    def __init__(self, *, width: int = 320, height: int = 240, frequency: float = 440.0) -> None:
        self.width = width
        self.height = height
        self.frequency = frequency
        self._tracks: list[MediaStreamTrack] = []

    def create_tracks(
        self, *, audio: bool, video: bool
    ) -> tuple[MediaStreamTrack | None, MediaStreamTrack | None]:
        audio_track = ToneAudioTrack(self.frequency) if audio else None
        video_track = PatternVideoTrack(self.width, self.height) if video else None
        self._tracks.extend(t for t in (audio_track, video_track) if t is not None)
        return audio_track, video_track

    def close(self) -> None:
        for track in self._tracks:
            track.stop()
        self._tracks.clear()


class FileSource:
    """A media file (anything FFmpeg reads) played through aiortc's ``MediaPlayer``.

    ``loop=True`` restarts the file at its end so a long-running bot keeps sending. A kind
    the file does not contain is simply not published.
    """

    def __init__(self, path: str | Path, *, loop: bool = True, options: dict[str, str] | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"media file not found: {self.path}")
        self.loop = loop
        self.options = options
        self._players: list[MediaPlayer] = []

    def create_tracks(
        self, *, audio: bool, video: bool
    ) -> tuple[MediaStreamTrack | None, MediaStreamTrack | None]:
        player = MediaPlayer(str(self.path), loop=self.loop, options=self.options)
        self._players.append(player)
        return (player.audio if audio else None), (player.video if video else None)

    def close(self) -> None:
        for player in self._players:
            for track in (player.audio, player.video):
                if track is not None:
                    track.stop()
        self._players.clear()

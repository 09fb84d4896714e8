"""Participant pieces that need no server: URLs, media sources, argument checks."""

from __future__ import annotations

import asyncio
import fractions
import math
from pathlib import Path

import av
import numpy as np
import pytest

from conclave.sdk import FileSource, Participant, SyntheticSource
from conclave.sdk.participant import candidate_addresses, http_base, rtc_url


def test_rtc_url_from_any_base() -> None:
    assert rtc_url("http://127.0.0.1:8000", token="t") == "ws://127.0.0.1:8000/rtc?token=t"
    assert rtc_url("https://meet.example/", room="a b") == "wss://meet.example/rtc?room=a+b"
    assert rtc_url("ws://h:1/base/rtc", token="x") == "ws://h:1/base/rtc?token=x"
    assert rtc_url("127.0.0.1:8000", token="t") == "ws://127.0.0.1:8000/rtc?token=t"
    assert http_base("wss://meet.example/base/rtc") == "https://meet.example/base"
    with pytest.raises(ValueError):
        rtc_url("http://h", token="t", room="r")
    with pytest.raises(ValueError):
        rtc_url("http://h")
    with pytest.raises(ValueError):
        rtc_url("ftp://h", token="t")


def test_candidate_addresses() -> None:
    sdp = "v=0\r\na=candidate:1 1 udp 2130706431 10.213.0.1 5000 typ host\r\na=end-of-candidates\r\n"
    assert candidate_addresses(sdp) == {"10.213.0.1"}


async def test_participant_refuses_calls_before_join() -> None:
    async with asyncio.timeout(10):
        participant = Participant("http://127.0.0.1:9", token="t")
        with pytest.raises(Exception, match="join first"):
            await participant.publish()
        await participant.leave()  # harmless without a join


async def test_synthetic_source_makes_fresh_paced_tracks() -> None:
    async with asyncio.timeout(10):
        source = SyntheticSource(width=64, height=48)
        audio, video = source.create_tracks(audio=True, video=True)
        assert audio is not None and video is not None
        frame = await video.recv()
        assert isinstance(frame, av.VideoFrame) and (frame.width, frame.height) == (64, 48)
        sound = await audio.recv()
        assert isinstance(sound, av.AudioFrame) and sound.samples == 960 and sound.sample_rate == 48000
        again, _ = source.create_tracks(audio=True, video=False)
        assert again is not audio  # a resumed publish gets new tracks
        source.close()


def write_test_file(path: Path, seconds: int = 2) -> None:
    """A short VP8 + Opus WebM, made with PyAV so no system tool is needed."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libvpx", rate=30)
        video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        audio = out.add_stream("libopus", rate=48000)
        audio.layout = "mono"
        for i in range(30 * seconds):
            frame = av.VideoFrame.from_ndarray(
                np.full((120, 160, 3), i * 4 % 256, dtype=np.uint8), format="rgb24"
            )
            frame.pts, frame.time_base = i, fractions.Fraction(1, 30)
            out.mux(video.encode(frame))
        for i in range(50 * seconds):
            t = (np.arange(960) + i * 960) / 48000
            samples = (np.sin(2 * math.pi * 440 * t) * 8000).astype(np.int16).reshape(1, -1)
            sound = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
            sound.sample_rate, sound.pts = 48000, i * 960
            out.mux(audio.encode(sound))
        out.mux(video.encode())
        out.mux(audio.encode())


async def test_file_source_plays_a_media_file(tmp_path: Path) -> None:
    async with asyncio.timeout(20):
        path = tmp_path / "clip.webm"
        write_test_file(path)
        source = FileSource(path, loop=False)
        audio, video = source.create_tracks(audio=True, video=True)
        assert audio is not None and video is not None
        frame = await video.recv()
        assert isinstance(frame, av.VideoFrame) and (frame.width, frame.height) == (160, 120)
        assert isinstance(await audio.recv(), av.AudioFrame)
        source.close()
        with pytest.raises(FileNotFoundError):
            FileSource(tmp_path / "missing.webm")

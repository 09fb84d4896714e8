"""The composition step on real ffmpeg inputs (no Janus needed): placement on the timeline."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

from conclave.recordings import processing
from conclave.recordings.processing import Capture, Track
from tests.conftest import missing_component
from tests.recordings.conftest import ffprobe


def _track(
    path: Path, kind: str, offset: float, duration: float, feed: int, size: tuple[int, int] = (0, 0)
) -> Track:
    capture = Capture(
        path=path, kind=kind, codec="vp8" if kind == "video" else "opus", feed_id=feed, first_packet_us=0
    )
    return Track(capture=capture, path=path, offset=offset, duration=duration, width=size[0], height=size[1])


def _make(target: Path, source: str, codec: list[str], seconds: float) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-t", str(seconds), *codec, str(target)],
        check=True,
        timeout=60,
    )
    return target


def test_grid_and_cells() -> None:
    assert [processing.grid(n) for n in (1, 2, 3, 4, 5)] == [(1, 1), (2, 1), (2, 2), (2, 2), (3, 2)]
    small = _track(Path("a"), "video", 0, 1, 1, (320, 240))
    large = _track(Path("b"), "video", 0, 1, 2, (1280, 720))
    assert processing.cell_size([small]) == (320, 240)
    assert processing.cell_size([small, large]) == (640, 360)


def test_command_places_tracks_and_always_has_one_audio_stream() -> None:
    tracks = [
        _track(Path("v1.webm"), "video", 0.0, 4.0, 1, (320, 240)),
        _track(Path("v2.webm"), "video", 2.5, 3.0, 2, (320, 240)),
        _track(Path("a2.opus"), "audio", 2.5, 3.0, 2),
    ]
    argv, total = processing.composite_command(tracks, Path("out.mp4"))
    graph = argv[argv.index("-filter_complex") + 1]
    assert total == 5.5
    assert "tpad=start_duration=2.500" in graph and "xstack=inputs=2:layout=0_0|320_0" in graph
    assert "adelay=2500:all=1" in graph
    silent, _ = processing.composite_command(tracks[:1], Path("out.mp4"))
    assert "anullsrc" in silent[silent.index("-filter_complex") + 1]


async def test_compose_puts_a_late_track_at_its_offset(tmp_path: Path) -> None:
    if shutil.which("ffmpeg") is None:
        missing_component("ffmpeg is not installed (apt-get install ffmpeg)")
    async with asyncio.timeout(120):
        video = _make(
            tmp_path / "v.webm", "testsrc=size=320x240:rate=25", ["-c:v", "libvpx", "-b:v", "300k"], 3
        )
        early = _make(tmp_path / "a1.opus", "sine=frequency=440", ["-c:a", "libopus"], 2)
        late = _make(tmp_path / "a2.opus", "sine=frequency=880", ["-c:a", "libopus"], 2)
        tracks = [
            _track(video, "video", 0.0, 3.0, 1, (320, 240)),
            _track(early, "audio", 0.0, 2.0, 1),
            _track(late, "audio", 2.5, 2.0, 2),
        ]
        output = await processing.compose(tracks, tmp_path, video=True, preset="ultrafast", time_limit=60)
        probed = ffprobe(output.path)
        assert sorted(s["codec_name"] for s in probed["streams"]) == ["aac", "h264"]
        assert abs(float(probed["format"]["duration"]) - 4.5) < 0.2
        audio_only = await processing.compose(
            tracks, tmp_path, video=False, preset="ultrafast", time_limit=60
        )
        assert audio_only.path.suffix == ".m4a" and abs(audio_only.duration - 4.5) < 0.2

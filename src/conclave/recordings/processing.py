"""Turn a folder of Janus ``.mjr`` captures into media files: plain functions, no database.

Janus' videoroom writes one ``.mjr`` per published m-line, named
``videoroom-<room>-user-<feed id>-<epoch µs>-<audio|video|data>-<mindex>.mjr`` (Janus 1.1). Each
file starts with a JSON header whose ``u`` is the wall-clock time (µs) the first packet was
written, which puts every capture on one timeline. The pipeline:

1. ``janus-pp-rec -j -d 0 <file>`` → the header (``t`` kind, ``c`` codec, ``s`` created, ``u``
   first packet); files without a header never received media and are skipped;
2. ``janus-pp-rec -d 0 <file> <track>.<webm|opus|mp4|wav>`` → a playable track (no re-encoding);
3. ``ffprobe`` → each track's duration; offset = ``u - min(u)``;
4. ``ffmpeg`` with one filter graph: every video scaled into a grid cell, padded with black
   before its offset and after its end (``tpad``), tiled with ``xstack``; every audio delayed to
   its offset (``adelay``) and mixed (``amix``); encoded once to H.264 + AAC (MP4), or AAC only
   (M4A) when there is no video or the mode is ``audio``.

``individual`` mode skips step 4: each extracted track is a result on its own, with its offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PP_REC = "janus-pp-rec"
FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"

# The largest grid cell; smaller sources get cells of their own size (never upscaled), since
# encoding pixels nobody sent is most of the composition's cost.
CELL_WIDTH = 640
CELL_HEIGHT = 360
FRAME_RATE = 24
AUDIO_BITRATE = "128k"

_PROBE_FORMAT = ("format=duration:stream=width,height",)
_PROBE_PACKETS = ("packet=pts_time,duration_time",)
_FEED = re.compile(r"-user-(\d+)-")
_TRACK_EXTENSIONS = {
    "vp8": "webm",
    "vp9": "webm",
    "av1": "webm",
    "h264": "mp4",
    "h265": "mp4",
    "opus": "opus",
    "multiopus": "opus",
    "pcmu": "wav",
    "pcma": "wav",
    "g722": "wav",
}
CONTENT_TYPES = {
    "webm": "video/webm",
    "mp4": "video/mp4",
    "opus": "audio/ogg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
    "zip": "application/zip",
}


class ProcessingError(RuntimeError):
    """A tool failed or the captures hold nothing usable; the message says which and why."""


class ToolMissing(ProcessingError):
    """``janus-pp-rec`` (Debian ``janus-tools``) or ``ffmpeg`` is not installed."""


@dataclass(frozen=True)
class Capture:
    """One ``.mjr`` file and what its header says."""

    path: Path
    kind: str  # "audio" | "video"
    codec: str
    feed_id: int | None
    first_packet_us: int


@dataclass(frozen=True)
class Track:
    """A capture extracted to a playable file, placed on the recording's timeline."""

    capture: Capture
    path: Path
    offset: float
    duration: float
    width: int = 0
    height: int = 0

    @property
    def kind(self) -> str:
        return self.capture.kind

    @property
    def end(self) -> float:
        return self.offset + self.duration


@dataclass(frozen=True)
class Output:
    """A finished file of a recording."""

    path: Path
    kind: str  # "composite" | "audio" | "track"
    content_type: str
    duration: float
    offset: float = 0.0
    feed_id: int | None = None
    track_kind: str | None = None


async def run_tool(argv: Sequence[str], *, time_limit: float, what: str) -> bytes:
    """Run a tool, returning stdout; kill it when it overruns; raise with its stderr tail."""
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
    except FileNotFoundError:
        package = "janus-tools" if argv[0] == PP_REC else "ffmpeg"
        raise ToolMissing(f"{argv[0]} is not installed (apt-get install {package})") from None
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), time_limit)
    except BaseException:
        # Timeout or cancellation (the worker stops): never leave a tool running on its own.
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        tail = stderr.decode(errors="replace").strip()[-1500:]
        raise ProcessingError(f"{what} failed (exit {process.returncode}): {tail}")
    return stdout


def _header_json(output: bytes) -> dict[str, object] | None:
    """``janus-pp-rec -j`` prints the header JSON on its own line (logs may surround it)."""
    for line in output.decode(errors="replace").splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(line)
                if isinstance(value, dict) and "t" in value:
                    return value
    return None


async def read_capture(path: Path, *, time_limit: float = 60.0) -> Capture | None:
    """Parse one ``.mjr`` header; None for files that never got a packet or carry data channels."""
    if (await asyncio.to_thread(path.stat)).st_size < 16:
        return None
    try:
        output = await run_tool(
            [PP_REC, "-j", "-d", "0", str(path)], time_limit=time_limit, what=f"reading {path.name}"
        )
    except ToolMissing:
        raise
    except ProcessingError:
        return None  # a capture cut short before its header (e.g. a crash) holds no media
    header = _header_json(output)
    if header is None:
        return None
    kind = {"a": "audio", "v": "video"}.get(str(header.get("t")))
    codec = str(header.get("c", "")).lower()
    first = header.get("u") or header.get("s")
    if kind is None or codec not in _TRACK_EXTENSIONS or not isinstance(first, int):
        return None
    feed = _FEED.search(path.name)
    return Capture(
        path=path, kind=kind, codec=codec, feed_id=int(feed.group(1)) if feed else None, first_packet_us=first
    )


def _mjr_files(raw_dir: Path) -> list[Path]:
    return sorted(raw_dir.glob("*.mjr")) if raw_dir.is_dir() else []


async def scan(raw_dir: Path, *, time_limit: float = 60.0) -> list[Capture]:
    """Every usable capture in a recording's raw folder, in timeline order."""
    captures = []
    for path in await asyncio.to_thread(_mjr_files, raw_dir):
        capture = await read_capture(path, time_limit=time_limit)
        if capture is not None:
            captures.append(capture)
    captures.sort(key=lambda c: (c.first_packet_us, c.feed_id or 0, c.kind))
    return captures


async def probe(path: Path, *, time_limit: float = 120.0) -> tuple[float, int, int]:
    """(duration, width, height) of a media file; width/height are 0 without video.

    Janus' webm files often carry no container duration: then the last packet's end is used.
    """
    output = await run_tool(
        [FFPROBE, "-v", "error", "-of", "json", "-show_entries", *_PROBE_FORMAT, str(path)],
        time_limit=time_limit,
        what=f"probing {path.name}",
    )
    info = json.loads(output or b"{}")
    width = height = 0
    for stream in info.get("streams", []):
        width, height = max(width, int(stream.get("width") or 0)), max(height, int(stream.get("height") or 0))
    with contextlib.suppress(TypeError, ValueError):
        value = float(info.get("format", {}).get("duration"))
        if math.isfinite(value) and value > 0:
            return value, width, height
    output = await run_tool(
        [FFPROBE, "-v", "error", "-of", "csv=p=0", "-show_entries", *_PROBE_PACKETS, str(path)],
        time_limit=time_limit,
        what=f"probing the packets of {path.name}",
    )
    end = 0.0
    for line in output.decode().splitlines():
        fields = [f for f in line.split(",") if f and f != "N/A"]
        with contextlib.suppress(ValueError):
            end = max(end, sum(float(f) for f in fields[:2]))
    return end, width, height


async def extract(captures: Sequence[Capture], work_dir: Path, *, time_limit: float) -> list[Track]:
    """Convert each capture with ``janus-pp-rec`` and place it on the common timeline."""
    if not captures:
        return []
    origin = min(c.first_packet_us for c in captures)
    tracks = []
    await asyncio.to_thread(work_dir.mkdir, parents=True, exist_ok=True)
    for index, capture in enumerate(captures):
        extension = _TRACK_EXTENSIONS[capture.codec]
        target = work_dir / f"track-{index:03d}-{capture.feed_id or 0}-{capture.kind}.{extension}"
        await run_tool(
            [PP_REC, "-d", "0", str(capture.path), str(target)],
            time_limit=time_limit,
            what=f"janus-pp-rec {capture.path.name}",
        )
        if not await asyncio.to_thread(_nonempty, target):
            continue  # e.g. a video capture that never got a keyframe
        duration, width, height = await probe(target, time_limit=time_limit)
        if duration <= 0:
            continue
        tracks.append(
            Track(
                capture=capture,
                path=target,
                offset=(capture.first_packet_us - origin) / 1_000_000,
                duration=duration,
                width=width,
                height=height,
            )
        )
    return tracks


def _nonempty(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def _fresh_dir(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def cell_size(videos: Sequence[Track]) -> tuple[int, int]:
    """The largest source, capped at ``CELL_WIDTH`` x ``CELL_HEIGHT``, in even pixels (yuv420p)."""
    width = min(CELL_WIDTH, max((t.width for t in videos), default=0) or CELL_WIDTH)
    height = min(CELL_HEIGHT, max((t.height for t in videos), default=0) or CELL_HEIGHT)
    return width - width % 2, height - height % 2


def grid(count: int) -> tuple[int, int]:
    """(columns, rows) of the smallest near-square grid holding ``count`` cells."""
    columns = max(1, math.ceil(math.sqrt(count)))
    rows = max(1, math.ceil(count / columns))
    return columns, rows


def composite_command(
    tracks: Sequence[Track],
    output: Path,
    *,
    video: bool = True,
    preset: str = "veryfast",
    threads: int | None = None,
) -> tuple[list[str], float]:
    """The ffmpeg argv composing ``tracks`` on their timeline, and the result's duration.

    Video (when ``video`` and there is any): one cell per video track (``cell_size``),
    track, letterboxed, black before the track starts (``tpad start_duration``) and after it
    ends (``tpad stop_duration``), tiled by ``xstack``. Audio: each track delayed to its offset
    and mixed without normalisation (a lone speaker keeps their level); silence when nobody
    spoke, so the file always has exactly one audio stream.
    """
    if not tracks:
        raise ProcessingError("the recording holds no media")
    total = max(t.end for t in tracks)
    videos = [t for t in tracks if t.kind == "video"] if video else []
    audios = [t for t in tracks if t.kind == "audio"]
    argv = [FFMPEG, "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    if threads:
        argv += ["-threads", str(threads)]
    inputs: list[Track] = [*videos, *audios]
    cell_w, cell_h = cell_size(videos)
    for track in inputs:
        argv += ["-i", str(track.path)]
    filters: list[str] = []
    for index, track in enumerate(videos):
        tail = max(0.0, total - track.end) + 1.0 / FRAME_RATE
        filters.append(
            f"[{index}:v]setpts=PTS-STARTPTS,"
            f"scale={cell_w}:{cell_h}:force_original_aspect_ratio=decrease,"
            f"pad={cell_w}:{cell_h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,fps={FRAME_RATE},"
            f"tpad=start_duration={track.offset:.3f}:stop_mode=add:stop_duration={tail:.3f}:color=black,"
            f"trim=duration={total:.3f}[v{index}]"
        )
    if len(videos) > 1:
        columns, _ = grid(len(videos))
        layout = "|".join(f"{(i % columns) * cell_w}_{(i // columns) * cell_h}" for i in range(len(videos)))
        labels = "".join(f"[v{i}]" for i in range(len(videos)))
        filters.append(f"{labels}xstack=inputs={len(videos)}:layout={layout}:fill=black[vout]")
    elif videos:
        filters.append("[v0]null[vout]")
    for offset, track in enumerate(audios, start=len(videos)):
        delay = round(track.offset * 1000)
        filters.append(
            f"[{offset}:a]aresample=48000:async=1:first_pts=0,asetpts=PTS-STARTPTS,"
            f"aformat=sample_rates=48000:channel_layouts=stereo,adelay={delay}:all=1[a{offset}]"
        )
    audio_labels = "".join(f"[a{i}]" for i in range(len(videos), len(inputs)))
    if len(audios) > 1:
        filters.append(
            f"{audio_labels}amix=inputs={len(audios)}:duration=longest:normalize=0,"
            f"apad=whole_dur={total:.3f},atrim=duration={total:.3f}[aout]"
        )
    elif audios:
        filters.append(f"{audio_labels}apad=whole_dur={total:.3f},atrim=duration={total:.3f}[aout]")
    else:
        filters.append(f"anullsrc=r=48000:cl=stereo,atrim=duration={total:.3f}[aout]")
    argv += ["-filter_complex", ";".join(filters)]
    if videos:
        argv += [
            "-map", "[vout]",
            "-c:v", "libx264", "-preset", preset, "-crf", "26", "-pix_fmt", "yuv420p",
            "-r", str(FRAME_RATE), "-g", str(FRAME_RATE * 4),
        ]  # fmt: skip
    argv += ["-map", "[aout]", "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ac", "2"]
    argv += ["-t", f"{total:.3f}", "-movflags", "+faststart", str(output)]
    return argv, total


async def compose(
    tracks: Sequence[Track], work_dir: Path, *, video: bool, preset: str, time_limit: float
) -> Output:
    has_video = video and any(t.kind == "video" for t in tracks)
    target = work_dir / ("composite.mp4" if has_video else "audio.m4a")
    argv, _ = composite_command(tracks, target, video=video, preset=preset)
    await run_tool(argv, time_limit=time_limit, what="ffmpeg composition")
    return Output(
        path=target,
        kind="composite" if has_video else "audio",
        content_type=CONTENT_TYPES["mp4" if has_video else "m4a"],
        duration=(await probe(target, time_limit=time_limit))[0],
    )


async def process(
    raw_dir: Path, work_dir: Path, *, mode: str, preset: str = "veryfast", time_limit: float = 3600.0
) -> list[Output]:
    """Everything for one recording; ``work_dir`` is wiped first so a retried job starts clean."""
    await asyncio.to_thread(_fresh_dir, work_dir)
    captures = await scan(raw_dir, time_limit=time_limit)
    if mode == "audio":
        captures = [c for c in captures if c.kind == "audio"]
    tracks = await extract(captures, work_dir / "tracks", time_limit=time_limit)
    if not tracks:
        raise ProcessingError("the recording holds no media: nobody published while it ran")
    if mode == "individual":
        return [
            Output(
                path=track.path,
                kind="track",
                content_type=CONTENT_TYPES[track.path.suffix.lstrip(".")],
                duration=track.duration,
                offset=track.offset,
                feed_id=track.capture.feed_id,
                track_kind=track.kind,
            )
            for track in tracks
        ]
    return [await compose(tracks, work_dir, video=mode == "composite", preset=preset, time_limit=time_limit)]

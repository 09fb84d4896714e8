"""The only code that changes recording rows: start/stop, processing results, deletion, links.

A recording is ``in_progress`` while Janus writes ``.mjr`` files into its raw folder,
``processing`` from the moment it stops (by the API, a moderator, or the session's end) until
the ``recording.process`` job has stored its files, then ``ready`` — or ``failed`` with the
error kept. Starting talks to the media node through ``Realtime.set_recording`` inside the
request's transaction, so a refusal (no live session, media error) leaves no row behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
import shutil
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conclave.kit.crypto import same_secret
from conclave.kit.errors import ConclaveError, Conflict, Forbidden, NotFound, ValidationFailed
from conclave.kit.events import DomainEvent, EventBus, emit
from conclave.kit.jobs import JobQueue, Reschedule
from conclave.kit.pagination import PageParams
from conclave.kit.time import from_timestamp, utcnow
from conclave.kit.transaction import transaction
from conclave.media.nodes import MediaNodes
from conclave.media.port import MediaError, MediaEvent, MediaEventKind
from conclave.realtime.service import PeerContext, Realtime, RealtimeError
from conclave.recordings import processing
from conclave.recordings.models import Recording, RecordingFile
from conclave.recordings.repository import (
    RecordingFilter,
    RecordingRepository,
    in_progress_for_session,
    projects_with_finished_recordings,
    recording_by_id,
    replace_files,
)
from conclave.recordings.schemas import RecordingMode
from conclave.recordings.storage import Storage
from conclave.rooms.models import Room
from conclave.rooms.service import RoomService
from conclave.sessions.service import SessionService
from conclave.tenancy.models import Project
from conclave.tenancy.service import TenancyService

log = logging.getLogger(__name__)

PROCESS_JOB = "recording.process"
EXPIRE_JOB = "recording.expire"
_EXPIRE_KEY = "recording.expire"
MAIN_KINDS = ("composite", "audio", "archive")
RETENTION_KEY = "recording_retention_days"
AUTO_ROOM_SETTING = "auto_recording_enabled"


class RecordingMessage(BaseModel):
    """Realtime ``{"type": "recording", "action": "start"|"stop", "mode"?}`` (moderators)."""

    type: Literal["recording"]
    id: str | int | None = None
    action: Literal["start", "stop"]
    mode: RecordingMode | None = None


@dataclass(frozen=True)
class RecordingSettings:
    raw_root: Path
    work_root: Path
    public_url: str
    link_ttl_seconds: int
    video_preset: str
    process_timeout: float
    sweep_interval: float


@dataclass(frozen=True)
class Download:
    file: RecordingFile
    recording: Recording


def link_key(master_key: str) -> bytes:
    """The download-link signing key, derived so it is useless for anything else."""
    return hmac.new(master_key.encode(), b"conclave/recording-links", hashlib.sha256).digest()


def auto_recording_on(project: Project, room: Room) -> bool:
    """Qriib's ``recording_features.enable_auto_cloud_recording`` (or the flat flag) on the project,
    or the room's own ``auto_recording_enabled`` setting."""
    features = project.features or {}
    nested = features.get("recording_features")
    flags = [
        features.get("enable_auto_cloud_recording"),
        nested.get("enable_auto_cloud_recording") if isinstance(nested, dict) else None,
        (room.settings or {}).get(AUTO_ROOM_SETTING),
    ]
    return any(flag is True for flag in flags)


def retention_days(project: Project) -> float | None:
    """``recording_retention_days`` from the project's ``extra_data`` (or ``features``); None: keep."""
    for source in (project.extra_data or {}, project.features or {}):
        value = source.get(RETENTION_KEY)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return None


def _safe_name(value: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", value).strip("-.")
    return cleaned[:60] or "participant"


class RecordingService:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        jobs: JobQueue,
        storage: Storage,
        tenancy: TenancyService,
        rooms: RoomService,
        sessions: SessionService,
        realtime: Realtime,
        nodes: MediaNodes,
        settings: RecordingSettings,
        *,
        signing_key: bytes,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.jobs = jobs
        self.storage = storage
        self.tenancy = tenancy
        self.rooms = rooms
        self.sessions = sessions
        self.realtime = realtime
        self.settings = settings
        self._signing_key = signing_key
        # feed id -> participant id per media room key, learnt from the node's own
        # notifications while a recording runs (files name the feed, not the person).
        self._feeds: dict[str, dict[int, str]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        bus.subscribe(self.on_event)
        nodes.listen(self._on_media)
        realtime.register_message("recording", RecordingMessage, self.on_realtime_message)

    # -- start / stop ----------------------------------------------------------------------

    async def start(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        *,
        mode: str | None,
        started_by: str,
    ) -> Recording:
        room = await self.rooms.get_room(db, project_id, room_ref)
        if not room.settings.get("recordings_enabled", False):
            raise Conflict(
                "recordings are disabled for this room (set recordings_enabled)", code="recordings_disabled"
            )
        repository = RecordingRepository(db, project_id)
        running = await repository.in_progress_for_room(room.id)
        if running is not None:
            raise Conflict(
                f"recording {running.id} is already running in this room", code="recording_in_progress"
            )
        live = await self.sessions.live_session(db, project_id, room.id)
        if live is None:
            raise Conflict("the room has no live session to record", code="no_live_session")
        chosen = mode or ("audio" if room.kind == "audio" else "composite")
        recording = Recording(
            project_id=project_id,
            room_id=room.id,
            session_id=live.id,
            mode=chosen,
            status="in_progress",
            started_by=started_by[:64],
            media_room_key=live.media_room_key,
            raw_dir="",
            started_at=utcnow(),
            meta={},
            files=[],
        )
        db.add(recording)
        await db.flush()
        raw_dir = self.settings.raw_root / recording.id
        await asyncio.to_thread(raw_dir.mkdir, parents=True, exist_ok=True)
        recording.raw_dir = str(raw_dir)
        try:
            room_key = await self.realtime.set_recording(
                room.id, enabled=True, record_dir=str(raw_dir), recording_id=recording.id, mode=chosen
            )
        except RealtimeError as exc:
            await asyncio.to_thread(shutil.rmtree, raw_dir, True)
            raise Conflict(exc.message, code=exc.code) from None
        recording.media_room_key = room_key
        self._feeds.setdefault(room_key, {})
        recording.meta = {"feeds": await self._current_feeds(room.id, room_key)}
        emit(db, self._event("recording.started", recording, mode=chosen, started_by=recording.started_by))
        return recording

    async def stop(self, db: AsyncSession, project_id: str, room_ref: str) -> Recording:
        room = await self.rooms.get_room(db, project_id, room_ref)
        recording = await RecordingRepository(db, project_id).in_progress_for_room(room.id)
        if recording is None:
            raise Conflict("no recording is running in this room", code="no_recording_in_progress")
        feeds = await self._current_feeds(room.id, recording.media_room_key)
        with contextlib.suppress(RealtimeError):
            # No live session here any more: Janus already closed the files with the room.
            await self.realtime.set_recording(
                room.id, enabled=False, record_dir=None, recording_id=recording.id, mode=recording.mode
            )
        await self._finish_capture(db, recording, feeds=feeds)
        return recording

    async def _finish_capture(
        self, db: AsyncSession, recording: Recording, *, feeds: dict[int, str], at: datetime | None = None
    ) -> None:
        """in_progress → processing: keep who published which feed, queue the processing job."""
        learnt = self._feeds.pop(recording.media_room_key, {})
        known = {int(k): v for k, v in (recording.meta.get("feeds") or {}).items()}
        known.update(learnt)
        known.update(feeds)
        recording.meta = {**recording.meta, "feeds": {str(k): v for k, v in known.items()}}
        recording.status = "processing"
        recording.stopped_at = at or utcnow()
        elapsed = max(0.0, (recording.stopped_at - recording.started_at).total_seconds())
        emit(db, self._event("recording.stopped", recording, mode=recording.mode, duration=round(elapsed, 3)))
        await self.jobs.enqueue(db, PROCESS_JOB, {"recording_id": recording.id})

    async def _current_feeds(self, room_id: str, room_key: str) -> dict[int, str]:
        live = self.realtime.live_media(room_id)
        if live is None or live[1] != room_key:
            return {}
        try:
            participants = await live[2].list_participants(room_key)
        except MediaError:
            return {}
        return {p.feed_id: p.display for p in participants if p.display}

    def _on_media(self, node_name: str, event: MediaEvent) -> None:
        if event.kind not in (MediaEventKind.PUBLISHED, MediaEventKind.JOINING) or event.feed_id is None:
            return
        feeds = self._feeds.get(event.room_key or "")
        display = event.data.get("display")
        if feeds is not None and isinstance(display, str):
            feeds[event.feed_id] = display

    # -- reactions to other domains --------------------------------------------------------

    async def on_event(self, event: DomainEvent) -> None:
        """Auto-record new sessions; hand a session's running recording to processing at its end."""
        if event.type == "session.started" and event.room_id:
            # Deferred: the realtime layer registers the session's first participant only after
            # this event is published, and that participant must get ``recording_started``.
            task = asyncio.get_running_loop().create_task(self._auto_start(event.project_id, event.room_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif event.type == "session.ended" and event.session_id:
            async with transaction(self.sessionmaker, self.bus) as db:
                for recording in await in_progress_for_session(db, event.session_id):
                    await self._finish_capture(db, recording, feeds={}, at=event.occurred_at)

    async def _auto_start(self, project_id: str, room_id: str) -> None:
        try:
            async with transaction(self.sessionmaker, self.bus) as db:
                project = await self.tenancy.get_project(db, project_id)
                room = await self.rooms.get_room(db, project_id, room_id)
                if not auto_recording_on(project, room) or not room.settings.get("recordings_enabled"):
                    return
                await self.start(db, project_id, room_id, mode=None, started_by="auto")
        except ConclaveError as exc:
            log.warning("automatic recording of room %s did not start: %s", room_id, exc.message)

    async def on_realtime_message(self, context: PeerContext, message: RecordingMessage) -> dict[str, Any]:
        """A moderator's start/stop from the meeting (needs the ``recording`` permission)."""
        if not context.permissions.get("recording", False):
            raise RealtimeError(f"your role ({context.role}) may not do this: recording", code="not_allowed")
        async with transaction(self.sessionmaker, self.bus) as db:
            if message.action == "start":
                recording = await self.start(
                    db,
                    context.project_id,
                    context.room_id,
                    mode=message.mode,
                    started_by=context.participant_id,
                )
            else:
                recording = await self.stop(db, context.project_id, context.room_id)
            view = {"recording_id": recording.id, "mode": recording.mode, "status": recording.status}
        return {"type": "ok", "recording": view}

    # -- reads and management --------------------------------------------------------------

    async def get(self, db: AsyncSession, project_id: str, recording_id: str) -> Recording:
        recording = await RecordingRepository(db, project_id).get(recording_id)
        if recording is None:
            raise NotFound(f"recording {recording_id!r} not found", code="recording_not_found")
        return recording

    async def list_recordings(
        self,
        db: AsyncSession,
        project_id: str,
        params: PageParams,
        *,
        room_ref: str | None,
        session_id: str | None,
        status: str | None,
        archived: bool | None,
        created_from: datetime | None,
        created_to: datetime | None,
    ) -> tuple[list[Recording], int]:
        repository = RecordingRepository(db, project_id)
        room_id = (await self.rooms.get_room(db, project_id, room_ref)).id if room_ref else None
        cursor = None
        if params.after is not None:
            cursor = await repository.get(params.after)
            if cursor is None:
                raise NotFound(
                    f"recording {params.after!r} given as 'after' not found", code="recording_not_found"
                )
        filters = RecordingFilter(
            room_id=room_id,
            session_id=session_id,
            status=status,
            archived=archived,
            created_from=created_from,
            created_to=created_to,
        )
        return await repository.page(params, filters, cursor)

    async def set_archived(
        self, db: AsyncSession, project_id: str, recording_id: str, archived: bool
    ) -> Recording:
        """Archived recordings are kept by the retention sweep and listed with ``archived=true``."""
        recording = await self.get(db, project_id, recording_id)
        recording.archived = archived
        recording.updated_at = utcnow()
        return recording

    async def delete(self, db: AsyncSession, project_id: str, recording_id: str) -> None:
        recording = await self.get(db, project_id, recording_id)
        if recording.status == "in_progress":
            raise Conflict("stop the recording before deleting it", code="recording_in_progress")
        await self._delete(db, RecordingRepository(db, project_id), [recording])

    async def delete_for_room(self, db: AsyncSession, project_id: str, room_ref: str) -> int:
        room = await self.rooms.get_room(db, project_id, room_ref)
        repository = RecordingRepository(db, project_id)
        return await self._delete(db, repository, await repository.matching(room_id=room.id))

    async def delete_for_session(self, db: AsyncSession, project_id: str, session_id: str) -> int:
        session = await self.sessions.get_session(db, project_id, session_id)
        repository = RecordingRepository(db, project_id)
        return await self._delete(db, repository, await repository.matching(session_id=session.id))

    async def _delete(
        self, db: AsyncSession, repository: RecordingRepository, recordings: list[Recording]
    ) -> int:
        """Rows first (flushed, so constraint errors surface), then the stored and raw files.

        A running recording of a bulk delete is skipped: its capture is still being written.
        """
        doomed = [r for r in recordings if r.status != "in_progress"]
        for recording in doomed:
            await repository.delete(recording)
        await db.flush()
        for recording in doomed:
            await self._remove_files(recording)
        return len(doomed)

    async def _remove_files(self, recording: Recording) -> None:
        await self.storage.delete_prefix(self._prefix(recording))
        for folder in (Path(recording.raw_dir) if recording.raw_dir else None, self._work_dir(recording.id)):
            if folder is not None:
                await asyncio.to_thread(shutil.rmtree, folder, True)

    # -- downloads and signed links --------------------------------------------------------

    def main_file(self, recording: Recording, file_id: str | None = None) -> RecordingFile:
        if recording.status != "ready":
            raise Conflict(f"the recording is {recording.status}, not ready", code="recording_not_ready")
        for file in recording.files:
            if (file_id is None and file.kind in MAIN_KINDS) or file.id == file_id:
                return file
        raise NotFound("no such file in this recording", code="recording_file_not_found")

    async def download(
        self, db: AsyncSession, project_id: str, recording_id: str, file_id: str | None
    ) -> Download:
        recording = await self.get(db, project_id, recording_id)
        return Download(file=self.main_file(recording, file_id), recording=recording)

    async def download_signed(
        self, db: AsyncSession, recording_id: str, file_id: str | None, expires: int, signature: str
    ) -> Download:
        """A link minted by :meth:`signed_link`: no credentials, valid until ``expires``."""
        expected = self._sign(recording_id, file_id, expires)
        if not same_secret(signature, expected):
            raise Forbidden("the download link's signature is invalid", code="invalid_signature")
        if expires < int(utcnow().timestamp()):
            raise Forbidden("the download link has expired", code="link_expired")
        recording = await recording_by_id(db, recording_id)
        if recording is None:
            raise NotFound(f"recording {recording_id!r} not found", code="recording_not_found")
        return Download(file=self.main_file(recording, file_id), recording=recording)

    def signed_link(
        self, recording: Recording, ttl: int | None = None, *, file_id: str | None = None
    ) -> tuple[str, datetime]:
        """A download URL that works without credentials for ``ttl`` seconds (compat surfaces use it)."""
        seconds = ttl if ttl is not None else self.settings.link_ttl_seconds
        if seconds <= 0:
            raise ValidationFailed("ttl must be positive", code="invalid_ttl")
        expires = int(utcnow().timestamp()) + seconds
        query = {"expires": str(expires), "signature": self._sign(recording.id, file_id, expires)}
        if file_id is not None:
            query["file"] = file_id
        url = f"{self.settings.public_url}/api/v1/recordings/{recording.id}/download?{urlencode(query)}"
        return url, from_timestamp(expires)

    def _sign(self, recording_id: str, file_id: str | None, expires: int) -> str:
        message = f"{recording_id}:{file_id or ''}:{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    # -- processing (the recording.process job) --------------------------------------------

    @staticmethod
    def _prefix(recording: Recording) -> str:
        return f"{recording.project_id}/{recording.id}"

    def _work_dir(self, recording_id: str) -> Path:
        return self.settings.work_root / recording_id

    async def process(self, recording_id: str) -> None:
        """Build and store a stopped recording's files; safe to run again after a crash."""
        async with transaction(self.sessionmaker, self.bus) as db:
            recording = await recording_by_id(db, recording_id)
            if recording is None or recording.status != "processing":
                return  # deleted meanwhile, or an earlier run already finished it
            recording.attempts += 1
            snapshot = (recording.project_id, recording.mode, Path(recording.raw_dir), recording.attempts)
            feeds = {int(k): str(v) for k, v in (recording.meta.get("feeds") or {}).items()}
            names = {}
            for participant_id in set(feeds.values()):
                with contextlib.suppress(ConclaveError):
                    names[participant_id] = (
                        await self.sessions.get_participant(db, recording.project_id, participant_id)
                    ).name
        project_id, mode, raw_dir, attempt = snapshot
        work_dir = self._work_dir(recording_id)
        try:
            outputs = await processing.process(
                raw_dir,
                work_dir,
                mode=mode,
                preset=self.settings.video_preset,
                time_limit=self.settings.process_timeout,
            )
            files = await self._store(project_id, recording_id, outputs, feeds, names, work_dir)
        except processing.ProcessingError as exc:
            # Final: no media, or a missing tool (ToolMissing) — retrying cannot help.
            await self._fail(recording_id, str(exc))
            return
        except Exception as exc:
            if attempt >= self.jobs.max_attempts:
                await self._fail(recording_id, f"{type(exc).__name__}: {exc}")
                return
            raise  # storage hiccup or the like: the job runner retries with backoff
        async with transaction(self.sessionmaker, self.bus) as db:
            recording = await recording_by_id(db, recording_id)
            if recording is None or recording.status != "processing":
                # Deleted while we worked: do not resurrect its files.
                await self.storage.delete_prefix(f"{project_id}/{recording_id}")
                return
            await replace_files(db, recording, files)
            main = next(f for f in files if f.kind in MAIN_KINDS)
            recording.status = "ready"
            recording.ready_at = utcnow()
            recording.size = main.size
            recording.duration = round(max((f.start_offset + (f.duration or 0.0)) for f in files), 3)
            recording.error = None
            url, _ = self.signed_link(recording)
            emit(
                db,
                self._event(
                    "recording.ready",
                    recording,
                    mode=recording.mode,
                    duration=recording.duration,
                    size=recording.size,
                    download_url=url,
                ),
            )
            await self.jobs.enqueue(db, EXPIRE_JOB, {}, key=_EXPIRE_KEY)
        await asyncio.to_thread(shutil.rmtree, work_dir, True)
        await asyncio.to_thread(shutil.rmtree, raw_dir, True)

    async def _store(
        self,
        project_id: str,
        recording_id: str,
        outputs: list[processing.Output],
        feeds: dict[int, str],
        names: dict[str, str],
        work_dir: Path,
    ) -> list[RecordingFile]:
        prefix = f"{project_id}/{recording_id}"
        files: list[RecordingFile] = []
        named: list[tuple[Path, str]] = []
        for position, output in enumerate(outputs):
            participant_id = feeds.get(output.feed_id) if output.feed_id is not None else None
            participant_name = names.get(participant_id) if participant_id else None
            if output.kind == "track":
                who = _safe_name(participant_name or f"feed-{output.feed_id}")
                filename = f"{position + 1:02d}-{who}-{output.track_kind}{output.path.suffix}"
            else:
                filename = f"recording-{recording_id[-8:]}{output.path.suffix}"
            stored = await self.storage.put(f"{prefix}/{filename}", output.path, output.content_type)
            named.append((output.path, filename))
            files.append(
                RecordingFile(
                    position=position + 1,
                    kind=output.kind,
                    storage_key=stored.key,
                    filename=filename,
                    content_type=output.content_type,
                    size=stored.size,
                    duration=round(output.duration, 3),
                    start_offset=round(output.offset, 3),
                    feed_id=output.feed_id,
                    participant_id=participant_id,
                    participant_name=participant_name,
                )
            )
        if any(o.kind == "track" for o in outputs):
            archive = work_dir / "tracks.zip"
            await asyncio.to_thread(_zip, archive, named)
            filename = f"recording-{recording_id[-8:]}-tracks.zip"
            stored = await self.storage.put(f"{prefix}/{filename}", archive, processing.CONTENT_TYPES["zip"])
            files.insert(
                0,
                RecordingFile(
                    position=0,
                    kind="archive",
                    storage_key=stored.key,
                    filename=filename,
                    content_type=processing.CONTENT_TYPES["zip"],
                    size=stored.size,
                    duration=round(max(o.offset + o.duration for o in outputs), 3),
                    start_offset=0.0,
                ),
            )
        return files

    async def _fail(self, recording_id: str, error: str) -> None:
        async with transaction(self.sessionmaker, self.bus) as db:
            recording = await recording_by_id(db, recording_id)
            if recording is None or recording.status != "processing":
                return
            recording.status = "failed"
            recording.error = error[:4000]
            emit(db, self._event("recording.failed", recording, mode=recording.mode, error=recording.error))
            await self.jobs.enqueue(db, EXPIRE_JOB, {}, key=_EXPIRE_KEY)
        log.error("recording %s failed: %s", recording_id, error)

    # -- retention (the recording.expire job) ----------------------------------------------

    async def expire(self) -> Reschedule:
        """Delete finished recordings older than their project's ``recording_retention_days``."""
        async with transaction(self.sessionmaker, self.bus) as db:
            for project_id in await projects_with_finished_recordings(db):
                try:
                    project = await self.tenancy.get_project(db, project_id)
                except NotFound:
                    continue
                days = retention_days(project)
                if days is None:
                    continue
                repository = RecordingRepository(db, project_id)
                expired = await repository.finished_before(utcnow() - timedelta(days=days))
                if expired:
                    log.info("retention: deleting %d recording(s) of project %s", len(expired), project_id)
                    await self._delete(db, repository, expired)
        return Reschedule(at=utcnow() + timedelta(seconds=self.settings.sweep_interval))

    # -- views -----------------------------------------------------------------------------

    @staticmethod
    def _event(kind: str, recording: Recording, **extra: Any) -> DomainEvent:
        data = {
            "room_id": recording.room_id,
            "session_id": recording.session_id,
            "recording_id": recording.id,
            **extra,
        }
        return DomainEvent(
            type=kind,
            project_id=recording.project_id,
            room_id=recording.room_id,
            session_id=recording.session_id,
            data=data,
        )


def _zip(target: Path, members: list[tuple[Path, str]]) -> None:
    # Media is already compressed: store, so building the archive costs one copy, not a CPU pass.
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for path, name in members:
            archive.write(path, arcname=name)

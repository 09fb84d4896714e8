"""Native routes for recordings: start/stop in a room, list, inspect, download, archive, delete."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from conclave.kit.errors import NotFound
from conclave.kit.pagination import Page, PageParams, page_params
from conclave.kit.routing import TransactionalRoute
from conclave.kit.time import utcnow
from conclave.recordings.models import Recording
from conclave.recordings.schemas import (
    DeletedCount,
    RecordingLink,
    RecordingOut,
    RecordingStart,
    RecordingStatus,
)
from conclave.recordings.service import Download, RecordingService
from conclave.tenancy.auth import CurrentProject, Session, authenticated_project


def recording_service(request: Request) -> RecordingService:
    service: RecordingService = request.app.state.recordings
    return service


Recordings = Annotated[RecordingService, Depends(recording_service)]
Pagination = Annotated[PageParams, Depends(page_params)]
router = APIRouter(prefix="/api/v1", tags=["recordings"], route_class=TransactionalRoute)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def recording_out(recording: Recording) -> RecordingOut:
    return RecordingOut.model_validate(recording)


@router.post("/rooms/{room}/recordings/start", response_model=RecordingOut)
async def start_recording(
    room: str,
    project: CurrentProject,
    db: Session,
    recordings: Recordings,
    body: Annotated[RecordingStart | None, Body()] = None,
) -> RecordingOut:
    """Start recording the room's live session (409 when recordings are off, none is live, or one
    already runs). Participants get ``recording_started``; joiners see it in ``joined.recording``."""
    mode = body.mode if body else None
    return recording_out(await recordings.start(db, project.id, room, mode=mode, started_by="api"))


@router.post("/rooms/{room}/recordings/stop", response_model=RecordingOut)
async def stop_recording(
    room: str, project: CurrentProject, db: Session, recordings: Recordings
) -> RecordingOut:
    """Stop the room's running recording; it turns ``processing`` and then ``ready`` (or ``failed``)."""
    return recording_out(await recordings.stop(db, project.id, room))


@router.delete("/rooms/{room}/recordings", response_model=DeletedCount)
async def delete_room_recordings(
    room: str, project: CurrentProject, db: Session, recordings: Recordings
) -> DeletedCount:
    """Delete every finished recording of the room, files included (a running one is kept)."""
    return DeletedCount(deleted=await recordings.delete_for_room(db, project.id, room))


@router.delete("/sessions/{session_id}/recordings", response_model=DeletedCount)
async def delete_session_recordings(
    session_id: str, project: CurrentProject, db: Session, recordings: Recordings
) -> DeletedCount:
    """Delete every finished recording of the session, files included."""
    return DeletedCount(deleted=await recordings.delete_for_session(db, project.id, session_id))


@router.get("/recordings", response_model=Page[RecordingOut])
async def list_recordings(
    project: CurrentProject,
    db: Session,
    recordings: Recordings,
    page: Pagination,
    room: Annotated[str | None, Query(description="Room id or friendly_url.")] = None,
    session_id: Annotated[str | None, Query()] = None,
    status: Annotated[RecordingStatus | None, Query()] = None,
    archived: Annotated[bool | None, Query()] = None,
    date_from: Annotated[datetime | None, Query(alias="from", description="Created at or after.")] = None,
    date_to: Annotated[datetime | None, Query(alias="to", description="Created before.")] = None,
) -> Page[RecordingOut]:
    rows, total = await recordings.list_recordings(
        db,
        project.id,
        page,
        room_ref=room,
        session_id=session_id,
        status=status,
        archived=archived,
        created_from=_aware(date_from),
        created_to=_aware(date_to),
    )
    return Page(total_count=total, data=[recording_out(row) for row in rows])


@router.get("/recordings/{recording_id}", response_model=RecordingOut)
async def get_recording(
    recording_id: str, project: CurrentProject, db: Session, recordings: Recordings
) -> RecordingOut:
    return recording_out(await recordings.get(db, project.id, recording_id))


@router.delete("/recordings/{recording_id}", status_code=204)
async def delete_recording(
    recording_id: str, project: CurrentProject, db: Session, recordings: Recordings
) -> None:
    """Delete the recording and remove its files from storage."""
    await recordings.delete(db, project.id, recording_id)


@router.post("/recordings/{recording_id}/archive", response_model=RecordingOut)
async def archive_recording(
    recording_id: str, project: CurrentProject, db: Session, recordings: Recordings
) -> RecordingOut:
    """Archived recordings are exempt from the project's retention period."""
    return recording_out(await recordings.set_archived(db, project.id, recording_id, True))


@router.post("/recordings/{recording_id}/unarchive", response_model=RecordingOut)
async def unarchive_recording(
    recording_id: str, project: CurrentProject, db: Session, recordings: Recordings
) -> RecordingOut:
    return recording_out(await recordings.set_archived(db, project.id, recording_id, False))


@router.post("/recordings/{recording_id}/link", response_model=RecordingLink)
async def recording_link(
    recording_id: str,
    project: CurrentProject,
    db: Session,
    recordings: Recordings,
    ttl: Annotated[int | None, Query(gt=0, le=7 * 24 * 3600, description="Seconds (default 1 h).")] = None,
    file: Annotated[str | None, Query(description="A file id; default the main file.")] = None,
) -> RecordingLink:
    """Mint a download URL that works without credentials until it expires."""
    recording = await recordings.get(db, project.id, recording_id)
    recordings.main_file(recording, file)
    url, expires_at = recordings.signed_link(recording, ttl, file_id=file)
    return RecordingLink(url=url, expires_at=expires_at)


@router.get(
    "/recordings/{recording_id}/download",
    response_class=Response,
    responses={200: {"description": "The file"}, 206: {"description": "A byte range of it"}},
)
async def download_recording(
    recording_id: str,
    request: Request,
    db: Session,
    recordings: Recordings,
    file: Annotated[str | None, Query(description="A file id; default the main file.")] = None,
    expires: Annotated[int | None, Query()] = None,
    signature: Annotated[str | None, Query()] = None,
) -> Response:
    """Stream the main file (MP4, M4A, or a ZIP of the tracks) or ``file``; honours ``Range``.

    Authenticate as usual, or use a signed link (``expires`` + ``signature``) from
    ``POST /recordings/{id}/link`` or the ``recording.ready`` event.
    """
    if signature is not None and expires is not None:
        found = await recordings.download_signed(db, recording_id, file, expires, signature)
    else:
        project = await authenticated_project(request)
        found = await recordings.download(db, project.id, recording_id, file)
    return await _file_response(recordings, found, request.headers.get("range"))


async def _file_response(recordings: RecordingService, found: Download, range_header: str | None) -> Response:
    file = found.file
    disposition = {"Content-Disposition": f'attachment; filename="{file.filename}"'}
    local = recordings.storage.local_path(file.storage_key)
    if local is not None:
        if not await asyncio.to_thread(local.is_file):
            raise NotFound("the recording's file is missing from storage", code="recording_file_missing")
        # Starlette answers Range itself: 206 with Content-Range, 416 when unsatisfiable.
        return FileResponse(local, media_type=file.content_type, filename=file.filename)
    size = await recordings.storage.size(file.storage_key)
    if size is None:
        raise NotFound("the recording's file is missing from storage", code="recording_file_missing")
    start, end = 0, size - 1
    status = 200
    if range_header:
        match = _RANGE.match(range_header.strip())
        if match is not None and (match.group(1) or match.group(2)):
            first, last = match.group(1), match.group(2)
            if first:
                start, end = int(first), min(int(last), size - 1) if last else size - 1
            else:
                start, end = max(0, size - int(last)), size - 1
            if start >= size or start > end:
                return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
            status = 206
    headers = {
        **disposition,
        "Accept-Ranges": "bytes",
        "Content-Length": str(end - start + 1),
    }
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return StreamingResponse(
        recordings.storage.read(file.storage_key, start, end),
        status_code=status,
        media_type=file.content_type,
        headers=headers,
    )


def _aware(value: datetime | None) -> datetime | None:
    """A time without a zone is UTC, as in the event log filters."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=utcnow().tzinfo)

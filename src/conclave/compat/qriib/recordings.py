"""Qriib's recording shapes and download links, over ``RecordingService``.

A Qriib download link is ``/api/v4/recordings/download_recording/{id}``. Conclave's links carry
the query of ``RecordingService.signed_link`` (``expires`` and ``signature``, an HMAC over the
recording id and expiry that the service checks in ``download_signed``), so they work without
credentials until they expire, like the native ``/api/v1/recordings/{id}/download`` link.
"""

from __future__ import annotations

import asyncio
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi.responses import FileResponse, Response, StreamingResponse

from conclave.kit.errors import NotFound
from conclave.recordings.models import Recording, RecordingFile
from conclave.recordings.service import Download, RecordingService
from conclave.rooms.models import Room
from conclave.tenancy.models import Project

DOWNLOAD_PATH = "/api/v4/recordings/download_recording/{id}"
LINK_MESSAGE = "Click the download_url to download the recording"


def download_link(recordings: RecordingService, recording: Recording) -> tuple[str, str]:
    """A signed Qriib download URL for the recording's main file, and that file's Qriib name.

    Raises ``Conflict`` (recording_not_ready) unless the recording is ready.
    """
    file = recordings.main_file(recording)
    signed, _ = recordings.signed_link(recording)
    parts = urlsplit(signed)
    url = urlunsplit((parts.scheme, parts.netloc, DOWNLOAD_PATH.format(id=recording.id), parts.query, ""))
    return url, qriib_filename(recording, file)


def qriib_filename(recording: Recording, file: RecordingFile) -> str:
    """``<recording id>.<extension>``, as Qriib names a download (``.mp4``, ``.m4a`` or ``.zip``)."""
    return f"{recording.id}{PurePosixPath(file.filename).suffix}"


def created_at(recording: Recording) -> str:
    """ISO 8601 in UTC without a zone or fraction, like ``2025-11-19T12:08:26``."""
    return recording.created_at.replace(tzinfo=None, microsecond=0).isoformat()


def recording_item(
    recordings: RecordingService, recording: Recording, project: Project, room: Room | None
) -> dict[str, Any]:
    """One ``get_records`` item. ``url`` is a signed link once the recording is ready, else null."""
    url = download_link(recordings, recording)[0] if recording.status == "ready" else None
    return {
        "created_at": created_at(recording),
        "id": recording.id,
        "project": {"project_id": project.id, "project_name": project.name},
        "room": {"room_id": recording.room_id, "room_name": room.name if room is not None else None},
        "url": url,
        "status": recording.status,
    }


async def file_response(recordings: RecordingService, found: Download) -> Response:
    """The main file under its Qriib name; local files answer ``Range`` (Starlette does it)."""
    file = found.file
    filename = qriib_filename(found.recording, file)
    local = recordings.storage.local_path(file.storage_key)
    if local is not None:
        if not await asyncio.to_thread(local.is_file):
            raise NotFound("the recording's file is missing from storage", code="recording_file_missing")
        return FileResponse(local, media_type=file.content_type, filename=filename)
    size = await recordings.storage.size(file.storage_key)
    if size is None:
        raise NotFound("the recording's file is missing from storage", code="recording_file_missing")
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Content-Length": str(size)}
    return StreamingResponse(
        recordings.storage.read(file.storage_key, 0, size - 1), media_type=file.content_type, headers=headers
    )

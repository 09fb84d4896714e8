"""Native library routes (Digital Samba paths, plus download, signed links and sharing into chat)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conclave.kit.errors import Forbidden
from conclave.kit.events import EventBus
from conclave.kit.pagination import Page, PageParams, page_params
from conclave.kit.routing import TransactionalRoute, from_state, get_session
from conclave.kit.transaction import transaction
from conclave.libraries.models import LibraryFile
from conclave.libraries.schemas import (
    LibraryCreate,
    LibraryFileOut,
    LibraryOut,
    ShareMessage,
    ShareOut,
    ShareRequest,
)
from conclave.libraries.service import CHUNK, LibraryService, read_chunks
from conclave.realtime.service import PeerContext, Realtime
from conclave.tenancy.auth import CurrentProject, Session

library_service = from_state("libraries")


Libraries = Annotated[LibraryService, Depends(library_service)]
Pagination = Annotated[PageParams, Depends(page_params)]
Db = Annotated[AsyncSession, Depends(get_session)]
router = APIRouter(prefix="/api/v1", tags=["libraries"], route_class=TransactionalRoute)


def _download(libraries: LibraryService, file: LibraryFile) -> StreamingResponse:
    disposition = f"attachment; filename*=UTF-8''{quote(file.name)}"
    return StreamingResponse(
        read_chunks(libraries.path(file)),
        media_type=file.content_type,
        headers={
            "Content-Disposition": disposition,
            "Content-Length": str(file.size),
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/libraries", response_model=Page[LibraryOut])
async def list_libraries(
    project: CurrentProject, db: Session, libraries: Libraries, page: Pagination
) -> Page[LibraryOut]:
    rows, total = await libraries.list_libraries(db, project.id, page)
    return Page(total_count=total, data=[LibraryOut.model_validate(r) for r in rows])


@router.post("/libraries", response_model=LibraryOut)
async def create_library(
    body: LibraryCreate, project: CurrentProject, db: Session, libraries: Libraries
) -> LibraryOut:
    """A folder: the project's, or a room's own (``room``; removed by the tags delete with delete_library)."""
    return LibraryOut.model_validate(await libraries.create_library(db, project.id, body.name, body.room))


@router.delete("/libraries/{library}", status_code=204)
async def delete_library(library: str, project: CurrentProject, db: Session, libraries: Libraries) -> None:
    await libraries.delete_library(db, project.id, library)


@router.get("/libraries/{library}/files", response_model=Page[LibraryFileOut])
async def list_files(
    library: str, project: CurrentProject, db: Session, libraries: Libraries, page: Pagination
) -> Page[LibraryFileOut]:
    rows, total = await libraries.list_files(db, project.id, library, page)
    return Page(total_count=total, data=[LibraryFileOut.model_validate(r) for r in rows])


@router.post("/libraries/{library}/files", response_model=LibraryFileOut)
async def upload_file(
    library: str,
    project: CurrentProject,
    db: Session,
    libraries: Libraries,
    file: Annotated[UploadFile, File()],
) -> LibraryFileOut:
    """Upload one file (multipart ``file``, ≤ 100 MB, documents, images, audio, video or zip)."""

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await file.read(CHUNK):
            yield chunk

    return LibraryFileOut.model_validate(
        await libraries.upload(db, project.id, library, file.filename, chunks())
    )


@router.get("/libraries/{library}/files/{file}", response_model=LibraryFileOut)
async def get_file(
    library: str, file: str, project: CurrentProject, db: Session, libraries: Libraries
) -> LibraryFileOut:
    return LibraryFileOut.model_validate(await libraries.get_file(db, project.id, library, file))


@router.get("/libraries/{library}/files/{file}/download")
async def download_file(
    library: str, file: str, project: CurrentProject, db: Session, libraries: Libraries
) -> StreamingResponse:
    """The file's bytes, streamed."""
    return _download(libraries, await libraries.get_file(db, project.id, library, file))


@router.delete("/libraries/{library}/files/{file}", status_code=204)
async def delete_file(
    library: str, file: str, project: CurrentProject, db: Session, libraries: Libraries
) -> None:
    await libraries.delete_file(db, project.id, library, file)


@router.post("/libraries/{library}/files/{file}/share", response_model=ShareOut)
async def share_file(
    library: str, file: str, body: ShareRequest, project: CurrentProject, db: Session, libraries: Libraries
) -> ShareOut:
    """Post a signed download link (valid 24 h) into the room's live chat."""
    message, url, expires = await libraries.share_from_api(
        db, project, library, file, body.room, body.message
    )
    return ShareOut(message_id=message.id, url=url, expires_at=expires)


@router.get("/library-files/{file}")
async def signed_download(
    file: str,
    db: Db,
    libraries: Libraries,
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(max_length=64)],
) -> StreamingResponse:
    """A shared link: no API key, the signature and expiry are the credential."""
    return _download(libraries, await libraries.file_by_link(db, file, expires, signature))


# -- in the meeting --------------------------------------------------------------------------


def register_live(
    realtime: Realtime,
    libraries: LibraryService,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: EventBus,
) -> None:
    """``library_share``: a participant posts a file's signed link into the meeting chat."""

    async def share(context: PeerContext, message: ShareMessage) -> dict[str, Any]:
        if not context.permissions.get("chat", False):
            raise Forbidden(f"your role ({context.role}) may not do this: chat", code="not_allowed")
        if not context.settings.get("chat_enabled", False):
            raise Forbidden("this room has chat_enabled off", code="feature_disabled")
        async with transaction(sessionmaker, bus) as db:
            posted = await libraries.share_from_participant(
                db, context.project_id, context.participant_id, message.file_id, message.message
            )
        return {"type": "ok", "message_id": posted.id}

    realtime.register_message("library_share", ShareMessage, share)

"""The only code that changes library rows and the bytes behind them.

Files live under ``<data dir>/libraries/<project id>/<file id>``. A row and its bytes go
together: uploads are written before the row is flushed (and removed if the request fails),
and deleted files' bytes are removed only once the deletion has committed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from conclave.chat.models import ChatMessage
from conclave.chat.service import ChatService
from conclave.kit.crypto import same_secret
from conclave.kit.errors import Forbidden, NotFound, ValidationFailed
from conclave.kit.ids import new_id
from conclave.kit.pagination import PageParams
from conclave.kit.time import from_timestamp, utcnow
from conclave.kit.transaction import on_commit
from conclave.libraries.models import Library, LibraryFile
from conclave.libraries.repository import FileRepository, LibraryRepository
from conclave.rooms.service import RoomService
from conclave.sessions.service import SessionService
from conclave.tenancy.models import Project

MAX_FILE_BYTES = 100 * 1024 * 1024
LINK_TTL = timedelta(hours=24)
CHUNK = 1024 * 1024
# By extension, and served with our own content type (never the uploader's): no HTML or SVG,
# so a shared link cannot run script in the server's origin.
ALLOWED_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".zip": "application/zip",
}


class LibraryService:
    def __init__(
        self,
        rooms: RoomService,
        sessions: SessionService,
        chat: ChatService,
        *,
        data_dir: Path,
        master_key: str,
        public_url: str,
    ) -> None:
        self.rooms = rooms
        self.sessions = sessions
        self.chat = chat
        self.root = data_dir / "libraries"
        self.public_url = public_url.rstrip("/")
        self._link_key = hmac.new(master_key.encode(), b"conclave/library-links", hashlib.sha256).digest()

    # -- storage -----------------------------------------------------------------------------

    def path(self, file: LibraryFile) -> Path:
        return self.root / file.project_id / file.id

    def _remove_later(self, db: AsyncSession, paths: list[Path]) -> None:
        def remove() -> None:
            for path in paths:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

        on_commit(db, remove)

    # -- folders -----------------------------------------------------------------------------

    async def create_library(
        self, db: AsyncSession, project_id: str, name: str, room_ref: str | None
    ) -> Library:
        room_id = (await self.rooms.get_room(db, project_id, room_ref)).id if room_ref else None
        library = Library(project_id=project_id, name=name, room_id=room_id)
        db.add(library)
        await db.flush()
        return library

    async def get_library(self, db: AsyncSession, project_id: str, library_id: str) -> Library:
        library = await LibraryRepository(db, project_id).get(library_id)
        if library is None:
            raise NotFound(f"library {library_id!r} not found", code="library_not_found")
        return library

    async def list_libraries(
        self, db: AsyncSession, project_id: str, params: PageParams
    ) -> tuple[list[Library], int]:
        cursor = await self.get_library(db, project_id, params.after) if params.after else None
        return await LibraryRepository(db, project_id).page(params, cursor)

    async def delete_library(self, db: AsyncSession, project_id: str, library_id: str) -> None:
        await self._drop(db, await self.get_library(db, project_id, library_id))

    async def _drop(self, db: AsyncSession, library: Library) -> None:
        files = await FileRepository(db, library.project_id).in_library(library.id)
        self._remove_later(db, [self.path(f) for f in files])
        await db.delete(library)
        await db.flush()

    async def delete_room_libraries(self, db: AsyncSession, project_id: str, room_id: str) -> int:
        libraries = await LibraryRepository(db, project_id).for_room(room_id)
        for library in libraries:
            await self._drop(db, library)
        return len(libraries)

    # -- files -------------------------------------------------------------------------------

    async def upload(
        self,
        db: AsyncSession,
        project_id: str,
        library_id: str,
        filename: str | None,
        chunks: AsyncIterator[bytes],
    ) -> LibraryFile:
        """Stream the upload to disk, hashing and counting; refuse unknown types and oversize files."""
        library = await self.get_library(db, project_id, library_id)
        name = Path(filename or "").name.strip()
        if not name or len(name) > 255:
            raise ValidationFailed("the file needs a name of 1-255 characters", code="invalid_file_name")
        content_type = ALLOWED_TYPES.get(Path(name).suffix.lower())
        if content_type is None:
            allowed = ", ".join(sorted(ALLOWED_TYPES))
            raise ValidationFailed(
                f"this file type is not allowed (allowed: {allowed})", code="unsupported_file_type"
            )
        file = LibraryFile(
            id=new_id(), project_id=project_id, library_id=library.id, name=name, content_type=content_type
        )
        target = self.path(file)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        try:
            with target.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > MAX_FILE_BYTES:
                        raise ValidationFailed(
                            f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB",
                            code="file_too_large",
                        )
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise ValidationFailed("the file is empty", code="empty_file")
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            raise
        file.size, file.sha256 = size, digest.hexdigest()
        db.add(file)
        await db.flush()
        return file

    async def list_files(
        self, db: AsyncSession, project_id: str, library_id: str, params: PageParams
    ) -> tuple[list[LibraryFile], int]:
        library = await self.get_library(db, project_id, library_id)
        cursor = await self.get_file(db, project_id, library.id, params.after) if params.after else None
        return await FileRepository(db, project_id).page(params, library.id, cursor)

    async def get_file(self, db: AsyncSession, project_id: str, library_id: str, file_id: str) -> LibraryFile:
        library = await self.get_library(db, project_id, library_id)
        file = await FileRepository(db, project_id).get(file_id, library_id=library.id)
        if file is None:
            raise NotFound(f"file {file_id!r} not found", code="file_not_found")
        return file

    async def delete_file(self, db: AsyncSession, project_id: str, library_id: str, file_id: str) -> None:
        file = await self.get_file(db, project_id, library_id, file_id)
        self._remove_later(db, [self.path(file)])
        await db.delete(file)
        await db.flush()

    # -- signed links and sharing ------------------------------------------------------------

    def _signature(self, file_id: str, expires: int) -> str:
        return hmac.new(self._link_key, f"{file_id}:{expires}".encode(), hashlib.sha256).hexdigest()

    def signed_link(self, file: LibraryFile, *, now: datetime | None = None) -> tuple[str, datetime]:
        expires = int(((now or utcnow()) + LINK_TTL).timestamp())
        query = f"expires={expires}&signature={self._signature(file.id, expires)}"
        url = f"{self.public_url}/api/v1/library-files/{file.id}?{query}"
        return url, from_timestamp(expires)

    async def file_by_link(self, db: AsyncSession, file_id: str, expires: int, signature: str) -> LibraryFile:
        """The file a signed link names, while the link is valid (the link is the credential)."""
        if not same_secret(signature, self._signature(file_id, expires)):
            raise Forbidden("the download link is not valid", code="invalid_link")
        if from_timestamp(expires) <= utcnow():
            raise Forbidden("the download link has expired", code="link_expired")
        file = await FileRepository.by_id(db, file_id)
        if file is None:
            raise NotFound("the file no longer exists", code="file_not_found")
        return file

    def _share_text(self, file: LibraryFile, note: str | None) -> tuple[str, str, datetime]:
        url, expires = self.signed_link(file)
        text = f"{note.strip()} " if note and note.strip() else ""
        return f"{text}📎 {file.name}: {url}", url, expires

    async def share_from_api(
        self,
        db: AsyncSession,
        project: Project,
        library_id: str,
        file_id: str,
        room_ref: str,
        note: str | None,
    ) -> tuple[ChatMessage, str, datetime]:
        """Post the file's signed link into the room's live chat as the project."""
        file = await self.get_file(db, project.id, library_id, file_id)
        text, url, expires = self._share_text(file, note)
        return await self.chat.post_from_api(db, project, room_ref, text), url, expires

    async def share_from_participant(
        self, db: AsyncSession, project_id: str, participant_id: str, file_id: str, note: str | None
    ) -> ChatMessage:
        """A participant shares a project file into the meeting chat (a file of this room or a shared one)."""
        sender = await self.sessions.get_participant(db, project_id, participant_id)
        file = await FileRepository(db, project_id).get(file_id)
        library = await LibraryRepository(db, project_id).get(file.library_id) if file else None
        if file is None or library is None or library.room_id not in (None, sender.room_id):
            raise NotFound(f"file {file_id!r} not found", code="file_not_found")
        text, _, _ = self._share_text(file, note)
        return await self.chat.post_from_participant(db, sender, text, to=None)


async def read_chunks(path: Path) -> AsyncIterator[bytes]:
    """File bytes in chunks, for a streamed download without loading the file."""
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk

"""Hard deletion of stored content and anonymisation of participant history, across domains.

Owns no rows: each domain deletes its own through its service, all in the caller's
transaction, so a deletion happens completely or not at all.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from conclave.chat.service import ChatService
from conclave.kit.pagination import PageParams
from conclave.libraries.service import LibraryService
from conclave.polls.service import PollService
from conclave.qa.service import QaService
from conclave.quizzes.service import QuizService
from conclave.recordings.service import RecordingService
from conclave.rooms.service import RoomService
from conclave.sessions.service import SessionService
from conclave.tenancy.models import Project
from conclave.transcripts.service import TranscriptService


class RetentionService:
    def __init__(
        self,
        *,
        rooms: RoomService,
        sessions: SessionService,
        chat: ChatService,
        qa: QaService,
        polls: PollService,
        quizzes: QuizService,
        transcripts: TranscriptService,
        libraries: LibraryService,
        recordings: RecordingService,
    ) -> None:
        self.rooms = rooms
        self.sessions = sessions
        self.chat = chat
        self.qa = qa
        self.polls = polls
        self.quizzes = quizzes
        self.transcripts = transcripts
        self.libraries = libraries
        self.recordings = recordings

    async def delete_session_resources(
        self, db: AsyncSession, project_id: str, session_id: str, *, delete_history: bool
    ) -> None:
        """Chat, Q&A, polls, quiz runs, transcripts, summaries and recordings of one session."""
        session = await self.sessions.get_session(db, project_id, session_id)
        await self.chat.delete_session_chat(db, project_id, session.id)
        await self.qa.delete_session_questions(db, project_id, session.id)
        await self.polls.delete_session_polls(db, project_id, session.id)
        await self.quizzes.delete_session_quizzes(db, project_id, session.id)
        await self.transcripts.delete_summaries(db, project_id, session_id=session.id)
        await self.transcripts.delete_transcripts(db, project_id, session_id=session.id)
        await self.recordings.delete_for_session(db, project_id, session.id)
        if delete_history:
            await self.sessions.anonymise_participants(db, project_id, session_id=session.id)

    async def _tagged_room_ids(self, db: AsyncSession, project_id: str, tags: list[str]) -> list[str]:
        """The rooms a tag delete will remove (rooms with a live session are skipped by it)."""
        ids: list[str] = []
        offset = 0
        while True:
            page = PageParams(limit=100, offset=offset, order="asc", after=None)
            rows, total = await self.rooms.list_rooms(db, project_id, page, tags)
            ids += [room.id for room in rows if room.status != "live"]
            offset += len(rows)
            if not rows or offset >= total:
                return ids

    async def delete_rooms_by_tags(
        self,
        db: AsyncSession,
        project: Project,
        tags: list[str],
        *,
        delete_resources: bool,
        delete_history: bool,
        delete_library: bool,
    ) -> tuple[list[str], list[str]]:
        """``DELETE /rooms/tags`` with its flags, then the rooms themselves.

        The room delete cascades the content tables anyway; ``delete_resources`` also removes
        what outlives a room (recordings and their files), ``delete_library`` the rooms' own
        libraries (kept as project folders otherwise), ``delete_history`` blanks participants'
        personal data first.
        """
        room_ids = await self._tagged_room_ids(db, project.id, tags)
        for room_id in room_ids:
            if delete_resources:
                await self.chat.delete_room_chat(db, project.id, room_id)
                await self.qa.delete_room_questions(db, project.id, room_id)
                await self.polls.delete_room_polls(db, project.id, room_id)
                await self.quizzes.delete_room_quizzes(db, project.id, room_id)
                await self.transcripts.delete_summaries(db, project.id, room_ref=room_id)
                await self.transcripts.delete_transcripts(db, project.id, room_ref=room_id)
                await self.recordings.delete_for_room(db, project.id, room_id)
            if delete_library:
                await self.libraries.delete_room_libraries(db, project.id, room_id)
        if delete_history and room_ids:
            await self.sessions.anonymise_participants(db, project.id, room_ids=room_ids)
        return await self.rooms.delete_rooms_by_tags(db, project, tags)

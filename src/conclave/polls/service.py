"""The only code that changes poll rows. Meetings follow polls through ``poll.*`` events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.errors import Conflict, NotFound, ValidationFailed
from conclave.kit.events import DomainEvent, emit
from conclave.kit.ids import new_id
from conclave.kit.pagination import PageParams
from conclave.kit.time import isoformat, utcnow
from conclave.kit.uploads import read_upload
from conclave.polls.models import Poll, PollOption, PollVote
from conclave.polls.repository import PollRepository
from conclave.rooms.models import Room
from conclave.rooms.service import RoomService
from conclave.sessions.service import SessionService

TEMPLATE = (
    "question,type,anonymous,option_1,option_2,option_3,option_4\r\n"
    "What topic should we cover next?,single,false,API Design,Security,Performance,\r\n"
    "Which days suit you?,multiple,true,Monday,Wednesday,Friday,\r\n"
    "Any other feedback?,free,false,,,,\r\n"
)
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}


@dataclass(frozen=True)
class PollView:
    poll: Poll
    options: list[PollOption]


@dataclass(frozen=True)
class NewPoll:
    question: str
    type: str
    anonymous: bool
    options: list[tuple[str | None, str]]


def poll_view(view: PollView) -> dict[str, Any]:
    poll = view.poll
    return {
        "id": poll.id,
        "question": poll.question,
        "status": poll.status,
        "type": poll.type,
        "anonymous": poll.anonymous,
        "options": [{"id": o.id, "label": o.label} for o in view.options],
        "session_id": poll.session_id,
        "launched_at": isoformat(poll.launched_at),
        "ended_at": isoformat(poll.ended_at),
        "created_at": isoformat(poll.created_at),
    }


def results_view(view: PollView, votes: list[PollVote]) -> dict[str, Any]:
    """Counts per option and, unless the poll is anonymous, who chose what."""
    poll = view.poll
    hidden = poll.anonymous
    options = []
    for option in view.options:
        chose = [v for v in votes if option.id in v.option_ids]
        options.append(
            {
                "id": option.id,
                "label": option.label,
                "voted": len(chose),
                "voters": []
                if hidden
                else [{"id": v.participant_id, "name": v.participant_name} for v in chose],
            }
        )
    answers = [
        {"text": v.text, "voter": None if hidden else {"id": v.participant_id, "name": v.participant_name}}
        for v in votes
        if v.text is not None
    ]
    return {
        "id": poll.id,
        "question": poll.question,
        "type": poll.type,
        "status": poll.status,
        "anonymous": poll.anonymous,
        "session_id": poll.session_id,
        "voted": len(votes),
        "options": options,
        "answers": answers,
    }


def parse_poll_rows(rows: list[tuple[int, list[str]]]) -> list[NewPoll]:
    """Validate every row (1-based line numbers); nothing is imported if any row is wrong."""
    polls: list[NewPoll] = []
    errors: list[dict[str, Any]] = []
    for index, (line, row) in enumerate(rows):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if index == 0 and cells[0].lower() == "question":
            continue
        question, kind, anonymous = [*cells, "", "", ""][:3]
        labels = [c for c in cells[3:] if c]
        kind = kind.lower() or "single"
        problem = None
        if not question or len(question) > 1000:
            problem = "question must be 1-1000 characters"
        elif kind not in ("single", "multiple", "free"):
            problem = f"type must be single, multiple or free, not {kind!r}"
        elif anonymous.lower() not in _TRUE | _FALSE:
            problem = f"anonymous must be true or false, not {anonymous!r}"
        elif kind == "free" and labels:
            problem = "a free-text poll has no options"
        elif kind != "free" and len(labels) < 2:
            problem = f"a {kind} choice poll needs at least 2 options"
        elif len(labels) > 50 or any(len(label) > 512 for label in labels):
            problem = "at most 50 options of 1-512 characters"
        if problem:
            errors.append({"line": line, "message": problem})
            continue
        polls.append(NewPoll(question, kind, anonymous.lower() in _TRUE, [(None, label) for label in labels]))
    if errors:
        raise ValidationFailed(
            f"{len(errors)} row(s) are invalid; nothing was imported", code="invalid_rows", details=errors
        )
    if not polls:
        raise ValidationFailed("the file contains no polls", code="empty_import")
    return polls


class PollService:
    def __init__(self, rooms: RoomService, sessions: SessionService) -> None:
        self.rooms = rooms
        self.sessions = sessions

    def _emit(self, db: AsyncSession, kind: str, subject: Poll, **extra: Any) -> None:
        emit(
            db,
            DomainEvent(
                type=kind,
                project_id=subject.project_id,
                room_id=subject.room_id,
                session_id=subject.session_id,
                data={
                    "room_id": subject.room_id,
                    "session_id": subject.session_id,
                    "poll_id": subject.id,
                    **extra,
                },
            ),
        )

    async def _view(self, db: AsyncSession, poll: Poll) -> PollView:
        return PollView(poll, await PollRepository(db, poll.project_id).options_for([poll.id]))

    async def _poll(self, db: AsyncSession, room: Room, poll_id: str) -> Poll:
        poll = await PollRepository(db, room.project_id).get(poll_id, room_id=room.id)
        if poll is None:
            raise NotFound(f"poll {poll_id!r} not found", code="poll_not_found")
        return poll

    async def poll_in_room(self, db: AsyncSession, project_id: str, room_id: str, poll_id: str) -> Poll:
        poll = await PollRepository(db, project_id).get(poll_id, room_id=room_id)
        if poll is None:
            raise NotFound(f"poll {poll_id!r} not found", code="poll_not_found")
        return poll

    # -- drafts ------------------------------------------------------------------------------

    async def _add(self, db: AsyncSession, room: Room, new: NewPoll) -> PollView:
        given = [oid.lower() for oid, _ in new.options if oid]
        if await PollRepository(db, room.project_id).option_ids_taken(given):
            raise Conflict("an option id is already in use", code="option_id_taken")
        poll = Poll(
            project_id=room.project_id,
            room_id=room.id,
            question=new.question,
            type=new.type,
            anonymous=new.anonymous,
        )
        db.add(poll)
        await db.flush()
        options = [
            PollOption(id=(oid or new_id()).lower(), poll_id=poll.id, position=n, label=label)
            for n, (oid, label) in enumerate(new.options)
        ]
        db.add_all(options)
        await db.flush()
        view = PollView(poll, options)
        self._emit(db, "poll.created", poll, poll=poll_view(view))
        return view

    async def create(self, db: AsyncSession, project_id: str, room_ref: str, new: NewPoll) -> PollView:
        room = await self.rooms.get_room(db, project_id, room_ref)
        return await self._add(db, room, new)

    async def import_polls(
        self,
        db: AsyncSession,
        project_id: str,
        room_ref: str,
        data: bytes,
        filename: str | None,
        kind: str | None,
    ) -> list[PollView]:
        room = await self.rooms.get_room(db, project_id, room_ref)
        return [await self._add(db, room, new) for new in parse_poll_rows(read_upload(data, filename, kind))]

    async def list_polls(
        self, db: AsyncSession, project_id: str, room_ref: str, params: PageParams
    ) -> tuple[list[PollView], int]:
        room = await self.rooms.get_room(db, project_id, room_ref)
        repository = PollRepository(db, project_id)
        cursor = None
        if params.after:
            cursor = await repository.get(params.after, room_id=room.id)
            if cursor is None:
                raise NotFound(f"poll {params.after!r} given as 'after' not found", code="poll_not_found")
        rows, total = await repository.page(params, room_id=room.id, cursor=cursor)
        options = await repository.options_for([p.id for p in rows])
        return [PollView(p, [o for o in options if o.poll_id == p.id]) for p in rows], total

    async def get_poll(self, db: AsyncSession, project_id: str, room_ref: str, poll_id: str) -> PollView:
        room = await self.rooms.get_room(db, project_id, room_ref)
        return await self._view(db, await self._poll(db, room, poll_id))

    async def results(self, db: AsyncSession, project_id: str, room_ref: str, poll_id: str) -> dict[str, Any]:
        room = await self.rooms.get_room(db, project_id, room_ref)
        poll = await self._poll(db, room, poll_id)
        return results_view(await self._view(db, poll), await PollRepository(db, project_id).votes(poll.id))

    async def delete_poll(self, db: AsyncSession, project_id: str, room_ref: str, poll_id: str) -> None:
        room = await self.rooms.get_room(db, project_id, room_ref)
        poll = await self._poll(db, room, poll_id)
        self._emit(db, "poll.deleted", poll)
        await db.delete(poll)
        await db.flush()

    async def delete_room_polls(self, db: AsyncSession, project_id: str, room_ref: str) -> int:
        room = await self.rooms.get_room(db, project_id, room_ref)
        return await PollRepository(db, project_id).delete_where(room_id=room.id)

    async def delete_session_polls(self, db: AsyncSession, project_id: str, session_id: str) -> int:
        """Polls launched in the session (drafts belong to no session and stay)."""
        session = await self.sessions.get_session(db, project_id, session_id)
        return await PollRepository(db, project_id).delete_where(session_id=session.id)

    # -- lifecycle: draft → launched → ended -------------------------------------------------

    async def launch(self, db: AsyncSession, project_id: str, room_ref: str, poll_id: str) -> PollView:
        room = await self.rooms.get_room(db, project_id, room_ref)
        return await self.open(db, await self._poll(db, room, poll_id))

    async def open(self, db: AsyncSession, poll: Poll) -> PollView:
        """Launch a draft into the room's live session: from now on its participants may vote."""
        if poll.status != "draft":
            raise Conflict(f"the poll is {poll.status}, only a draft can be launched", code="poll_not_draft")
        live = await self.sessions.live_session(db, poll.project_id, poll.room_id)
        if live is None:
            raise Conflict("the room has no live session to launch the poll in", code="no_live_session")
        poll.status, poll.session_id, poll.launched_at = "launched", live.id, utcnow()
        await db.flush()
        view = await self._view(db, poll)
        self._emit(db, "poll.started", poll, poll=poll_view(view))
        return view

    async def end(self, db: AsyncSession, project_id: str, room_ref: str, poll_id: str) -> dict[str, Any]:
        room = await self.rooms.get_room(db, project_id, room_ref)
        return await self.close(db, await self._poll(db, room, poll_id))

    async def close(self, db: AsyncSession, poll: Poll) -> dict[str, Any]:
        if poll.status != "launched":
            raise Conflict(
                f"the poll is {poll.status}, only a launched poll can end", code="poll_not_launched"
            )
        poll.status, poll.ended_at = "ended", utcnow()
        await db.flush()
        results = results_view(
            await self._view(db, poll), await PollRepository(db, poll.project_id).votes(poll.id)
        )
        self._emit(db, "poll.ended", poll, results=results)
        return results

    async def vote(
        self,
        db: AsyncSession,
        poll: Poll,
        *,
        participant_id: str,
        session_id: str | None,
        option_ids: list[str],
        text: str | None,
    ) -> dict[str, Any]:
        """One ballot per participant, only while the poll runs in the voter's own session."""
        if poll.status != "launched" or poll.session_id != session_id:
            raise Conflict("the poll is not open for votes", code="poll_not_launched")
        participant = await self.sessions.get_participant(db, poll.project_id, participant_id)
        view = await self._view(db, poll)
        valid = {o.id for o in view.options}
        chosen = list(dict.fromkeys(option_ids))
        if poll.type == "free":
            if text is None or chosen:
                raise ValidationFailed("a free-text poll takes 'text' and no options", code="invalid_vote")
        elif text is not None or not chosen or not set(chosen) <= valid:
            raise ValidationFailed("choose options of this poll", code="invalid_vote")
        elif poll.type == "single" and len(chosen) != 1:
            raise ValidationFailed("a single choice poll takes exactly one option", code="invalid_vote")
        repository = PollRepository(db, poll.project_id)
        if await repository.ballot(poll.id, participant.id) is not None:
            raise Conflict("you already voted in this poll", code="already_voted")
        db.add(
            PollVote(
                poll_id=poll.id,
                participant_id=participant.id,
                participant_name=participant.name,
                option_ids=chosen,
                text=text,
            )
        )
        await db.flush()
        votes = await repository.votes(poll.id)
        counts = {o.id: sum(1 for v in votes if o.id in v.option_ids) for o in view.options}
        self._emit(
            db,
            "poll.voted",
            poll,
            participant_id=None if poll.anonymous else participant.id,
            option_ids=chosen,
            voted=len(votes),
            counts=counts,
        )
        return {"poll_id": poll.id, "voted": len(votes), "counts": counts}

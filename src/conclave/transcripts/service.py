"""The only code that changes transcript and summary rows.

Segments arrive as final ``caption`` lines from the meeting. When a session that has segments
ends, a durable job announces ``transcript.ready`` and starts its summary. The summarizer is
extractive and runs locally: it picks the transcript's most representative sentences by word
frequency. It does not paraphrase, translate or understand; it needs no model and sends
nothing anywhere.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.errors import NotFound
from conclave.kit.events import DomainEvent, emit
from conclave.kit.jobs import JobQueue
from conclave.kit.pagination import PageParams
from conclave.kit.time import from_timestamp, isoformat, utcnow
from conclave.rooms.service import RoomService
from conclave.sessions.models import Session
from conclave.sessions.service import SessionService
from conclave.transcripts.models import Summary, TranscriptSegment
from conclave.transcripts.repository import SegmentRepository, SummaryRepository

FINALIZE_JOB = "transcript.finalize"
SUMMARIZE_JOB = "summary.generate"
MAX_SUMMARY_SENTENCES = 5

_LABELS = {
    "en": ("Transcript", "Unknown speaker"),
    "it": ("Trascrizione", "Interlocutore sconosciuto"),
    "de": ("Transkript", "Unbekannter Sprecher"),
    "es": ("Transcripción", "Hablante desconocido"),
}
_STOPWORD_TEXT = (
    "a about above after again all also am an and any are as at be because been before being below "
    "between both but by can could did do does doing down during each few for from further had has "
    "have having he her here hers him his how i if in into is it its itself just me more most my no "
    "nor not now of off on once only or other our ours out over own same she should so some such "
    "than that the their them then there these they this those through to too under until up very "
    "was we were what when where which while who whom why will with would you your yours yeah okay "
    "ok um uh like well so really think know going get got thing things "
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def summarize(lines: list[str], *, limit: int = MAX_SUMMARY_SENTENCES) -> str:
    """Pick the sentences whose content words are most frequent across the whole transcript.

    Each sentence scores the mean frequency of its non-stopword words (so long sentences do not
    win by length alone); the best ``limit`` (about a fifth of the sentences, at least one) are
    returned in their original order.
    """
    sentences = [s.strip() for line in lines for s in _SENTENCE.split(line.strip()) if s.strip()]
    if not sentences:
        return ""
    words = [[w for w in _WORD.findall(s.lower()) if len(w) > 2 and w not in _STOPWORDS] for s in sentences]
    frequency = Counter(w for sentence in words for w in sentence)
    top = max(frequency.values(), default=1)
    scores = [
        (sum(frequency[w] / top for w in sentence) / math.sqrt(len(sentence)) if sentence else 0.0, n)
        for n, sentence in enumerate(words)
    ]
    keep = max(1, min(limit, math.ceil(len(sentences) / 5)))
    chosen = sorted(n for _, n in sorted(scores, key=lambda item: (-item[0], item[1]))[:keep])
    return " ".join(sentences[n] if sentences[n][-1] in ".!?" else f"{sentences[n]}." for n in chosen)


def segment_view(segment: TranscriptSegment) -> dict[str, Any]:
    return {
        "id": segment.id,
        "session_id": segment.session_id,
        "participant_id": segment.participant_id,
        "participant_name": segment.participant_name,
        "transcript": segment.transcript,
        "language": segment.language,
        "start_time": isoformat(segment.start_time),
        "end_time": isoformat(segment.end_time),
    }


def summary_view(summary: Summary) -> dict[str, Any]:
    return {"job_id": summary.id, "status": summary.status, "summary": summary.summary}


class TranscriptService:
    def __init__(self, rooms: RoomService, sessions: SessionService, jobs: JobQueue) -> None:
        self.rooms = rooms
        self.sessions = sessions
        self.jobs = jobs

    # -- writing -----------------------------------------------------------------------------

    async def add_caption(
        self,
        db: AsyncSession,
        project_id: str,
        session_id: str,
        sender_id: str,
        text: str,
        *,
        speaker_id: str | None,
        language: str | None,
        start: float | None,
        end: float | None,
    ) -> TranscriptSegment:
        """Store a final caption line of a live session and announce it (``transcript.segment``)."""
        session = await self.sessions.get_session(db, project_id, session_id)
        speaker = await self.sessions.get_participant(db, project_id, speaker_id or sender_id)
        if speaker.session_id != session.id:
            raise NotFound("the speaker is not in this session", code="participant_not_found")
        now = utcnow()
        end_time = from_timestamp(end) if end is not None else now
        start_time = from_timestamp(start) if start is not None else end_time
        segment = TranscriptSegment(
            project_id=project_id,
            room_id=session.room_id,
            session_id=session.id,
            participant_id=speaker.id,
            participant_name=speaker.name,
            speaker_id=speaker.id,
            language=language,
            transcript=text,
            start_time=min(start_time, end_time),
            end_time=end_time,
        )
        db.add(segment)
        await db.flush()
        emit(
            db,
            DomainEvent(
                type="transcript.segment",
                project_id=project_id,
                room_id=session.room_id,
                session_id=session.id,
                data={
                    "room_id": session.room_id,
                    "session_id": session.id,
                    "segment_id": segment.id,
                    **segment_view(segment),
                },
            ),
        )
        return segment

    async def on_committing(self, db: AsyncSession, events: list[DomainEvent]) -> None:
        """In the transaction that ends a session: queue its finalisation if it was transcribed."""
        for event in events:
            if event.type != "session.ended" or event.session_id is None:
                continue
            if await SegmentRepository(db, event.project_id).count_for_session(event.session_id):
                await self.jobs.enqueue(
                    db,
                    FINALIZE_JOB,
                    {"project_id": event.project_id, "session_id": event.session_id},
                    key=f"{FINALIZE_JOB}:{event.session_id}",
                )

    async def finalize(self, db: AsyncSession, project_id: str, session_id: str) -> None:
        """``transcript.ready`` for an ended session, and its summary started."""
        session = await self.sessions.get_session(db, project_id, session_id)
        count = await SegmentRepository(db, project_id).count_for_session(session.id)
        if not count:
            return
        emit(
            db,
            DomainEvent(
                type="transcript.ready",
                project_id=project_id,
                room_id=session.room_id,
                session_id=session.id,
                data={
                    "room_id": session.room_id,
                    "session_id": session.id,
                    "transcript_id": session.id,
                    "segments": count,
                },
            ),
        )
        await self._start_summary(db, session)

    async def _start_summary(self, db: AsyncSession, session: Session) -> Summary:
        existing = await SummaryRepository(db, session.project_id).for_session(session.id)
        if existing is not None:
            return existing
        summary = Summary(project_id=session.project_id, room_id=session.room_id, session_id=session.id)
        db.add(summary)
        await db.flush()
        await self.jobs.enqueue(
            db, SUMMARIZE_JOB, {"project_id": session.project_id, "summary_id": summary.id}
        )
        return summary

    async def generate_summary(self, db: AsyncSession, project_id: str, summary_id: str) -> Summary | None:
        summary = await SummaryRepository(db, project_id).get(summary_id)
        if summary is None:  # deleted while queued
            return None
        segments = await SegmentRepository(db, project_id).all(room_id=None, session_id=summary.session_id)
        summary.summary = summarize([s.transcript for s in segments])
        summary.status = "READY"
        summary.updated_at = utcnow()
        emit(
            db,
            DomainEvent(
                type="summary.ready",
                project_id=project_id,
                room_id=summary.room_id,
                session_id=summary.session_id,
                data={"room_id": summary.room_id, "session_id": summary.session_id, "job_id": summary.id},
            ),
        )
        return summary

    # -- reading -----------------------------------------------------------------------------

    async def _scope(
        self, db: AsyncSession, project_id: str, room_ref: str | None, session_id: str | None
    ) -> tuple[str | None, str | None]:
        room_id = (await self.rooms.get_room(db, project_id, room_ref)).id if room_ref else None
        if session_id is not None:
            session = await self.sessions.get_session(db, project_id, session_id)
            if room_id is not None and session.room_id != room_id:
                raise NotFound(f"session {session_id!r} not found", code="session_not_found")
        return room_id, session_id

    async def list_segments(
        self,
        db: AsyncSession,
        project_id: str,
        params: PageParams,
        *,
        room_ref: str | None,
        session_id: str | None,
    ) -> tuple[list[TranscriptSegment], int]:
        room_id, session_id = await self._scope(db, project_id, room_ref, session_id)
        repository = SegmentRepository(db, project_id)
        cursor = None
        if params.after:
            cursor = await repository.get(params.after)
            if cursor is None:
                raise NotFound(
                    f"segment {params.after!r} given as 'after' not found", code="segment_not_found"
                )
        return await repository.page(params, room_id=room_id, session_id=session_id, cursor=cursor)

    async def export(
        self,
        db: AsyncSession,
        project_id: str,
        fmt: Literal["txt", "json"],
        *,
        room_ref: str | None,
        session_id: str | None,
        locale: str | None,
    ) -> str:
        room_id, session_id = await self._scope(db, project_id, room_ref, session_id)
        segments = await SegmentRepository(db, project_id).all(room_id=room_id, session_id=session_id)
        if fmt == "json":
            return json.dumps([segment_view(s) for s in segments], ensure_ascii=False, indent=2)
        title, unknown = _LABELS.get(locale or "en", _LABELS["en"])
        lines = [f"{title}", ""]
        lines += [
            f"[{_clock(s.start_time)}] {s.participant_name or unknown}: {s.transcript}" for s in segments
        ]
        return "".join(f"{line}\n" for line in lines)

    async def get_summary(self, db: AsyncSession, project_id: str, session_id: str) -> Summary:
        """The session's summary; asking for one of a transcribed session that has none starts it."""
        session = await self.sessions.get_session(db, project_id, session_id)
        existing = await SummaryRepository(db, project_id).for_session(session.id)
        if existing is not None:
            return existing
        if not await SegmentRepository(db, project_id).count_for_session(session.id):
            raise NotFound("the session has no transcript to summarize", code="transcript_not_found")
        return await self._start_summary(db, session)

    # -- deleting ----------------------------------------------------------------------------

    async def delete_transcripts(
        self, db: AsyncSession, project_id: str, *, room_ref: str | None = None, session_id: str | None = None
    ) -> int:
        room_id, session_id = await self._scope(db, project_id, room_ref, session_id)
        return await SegmentRepository(db, project_id).delete_where(room_id=room_id, session_id=session_id)

    async def delete_summaries(
        self, db: AsyncSession, project_id: str, *, room_ref: str | None = None, session_id: str | None = None
    ) -> int:
        room_id, session_id = await self._scope(db, project_id, room_ref, session_id)
        return await SummaryRepository(db, project_id).delete_where(room_id=room_id, session_id=session_id)


def _clock(value: datetime) -> str:
    return value.strftime("%H:%M:%S")

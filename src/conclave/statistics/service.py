"""Usage statistics computed from real rows: rooms, sessions, participants and recordings.

Minutes are time actually spent inside the requested range (a session that started before
``from`` counts only from ``from``); days are UTC. Peak concurrency is exact: a sweep over
participants' join and leave times.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.errors import ValidationFailed
from conclave.kit.time import utcnow
from conclave.statistics.repository import StatisticsRepository

MAX_RANGE = timedelta(days=366)
DEFAULT_RANGE = timedelta(days=30)


def resolve_range(start: datetime | date | None, end: datetime | date | None) -> tuple[datetime, datetime]:
    """``from``/``to`` as given (a date means its 00:00 UTC; ``to`` as a date includes that day)."""

    def moment(value: datetime | date, *, inclusive_day: bool) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        day = datetime.combine(value, time(), UTC)
        return day + timedelta(days=1) if inclusive_day else day

    stop = moment(end, inclusive_day=True) if end is not None else utcnow()
    begin = moment(start, inclusive_day=False) if start is not None else stop - DEFAULT_RANGE
    if begin >= stop:
        raise ValidationFailed("'from' must be before 'to'", code="invalid_range")
    if stop - begin > MAX_RANGE:
        raise ValidationFailed("the range may span at most 366 days", code="range_too_long")
    return begin, stop


def _days(start: datetime, end: datetime) -> list[date]:
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _split_minutes(begin: datetime, finish: datetime, start: datetime, end: datetime) -> dict[date, float]:
    """Minutes of [begin, finish) inside [start, end), attributed to each UTC day."""
    begin, finish = max(begin, start), min(finish, end)
    out: dict[date, float] = defaultdict(float)
    while begin < finish:
        midnight = datetime.combine(begin.date() + timedelta(days=1), time(), UTC)
        step = min(finish, midnight)
        out[begin.date()] += (step - begin).total_seconds() / 60
        begin = step
    return out


def _peaks(
    intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime
) -> tuple[int, dict[date, int]]:
    """Most simultaneous intervals overall and per day (leaves sort before joins at the same instant)."""
    points: list[tuple[datetime, int]] = []
    for begin, finish in intervals:
        begin, finish = max(begin, start), min(finish, end)
        if begin <= finish and begin < end:
            # A presence closed at its own join time (no heartbeat since) still counts for an instant.
            points += [(begin, 1), (max(finish, begin + timedelta(microseconds=1)), -1)]
    points.sort(key=lambda p: (p[0], p[1]))
    current, peak = 0, 0
    per_day: dict[date, int] = defaultdict(int)
    for moment, delta in points:
        if delta < 0:
            current += delta
            continue
        current += delta
        peak = max(peak, current)
        per_day[moment.date()] = max(per_day[moment.date()], current)
    # Whoever is inside at a midnight counts for the new day too.
    for day in _days(start, end):
        midnight = datetime.combine(day, time(), UTC)
        inside = sum(1 for b, f in intervals if max(b, start) <= midnight < min(f, end))
        per_day[day] = max(per_day[day], inside)
    return peak, per_day


class StatisticsService:
    async def rooms(
        self, db: AsyncSession, project_id: str, start: datetime, end: datetime
    ) -> dict[str, Any]:
        repository = StatisticsRepository(db, project_id)
        created = await repository.rooms_created(start, end)
        sessions = await repository.sessions_overlapping(start, end)
        total, live = await repository.room_counts(end)
        now = utcnow()
        per_day = []
        for day in _days(start, end):
            day_start = datetime.combine(day, time(), UTC)
            day_end = day_start + timedelta(days=1)
            active = {
                s.room_id for s in sessions if s.started_at < day_end and (s.ended_at or now) >= day_start
            }
            per_day.append(
                {
                    "date": day,
                    "rooms_created": sum(1 for r in created if r.created_at.date() == day),
                    "active_rooms": len(active),
                    "sessions": sum(
                        1 for s in sessions if s.started_at.date() == day and s.started_at >= start
                    ),
                }
            )
        return {
            "date_start": start,
            "date_end": end,
            "total_rooms": total,
            "rooms_created": len(created),
            "active_rooms": len({s.room_id for s in sessions}),
            "live_rooms": live,
            "per_day": per_day,
        }

    async def sessions(
        self, db: AsyncSession, project_id: str, start: datetime, end: datetime
    ) -> dict[str, Any]:
        sessions = await StatisticsRepository(db, project_id).sessions_overlapping(start, end)
        now = utcnow()
        minutes: dict[date, float] = defaultdict(float)
        for s in sessions:
            for day, value in _split_minutes(s.started_at, s.ended_at or now, start, end).items():
                minutes[day] += value
        started = [s for s in sessions if s.started_at >= start]
        total_minutes = sum(minutes.values())
        per_day = [
            {
                "date": day,
                "sessions": sum(1 for s in started if s.started_at.date() == day),
                "minutes": round(minutes.get(day, 0.0)),
                "peak_participants": max(
                    (
                        s.peak_participants
                        for s in sessions
                        if s.started_at.date() <= day <= (s.ended_at or now).date()
                    ),
                    default=0,
                ),
            }
            for day in _days(start, end)
        ]
        return {
            "date_start": start,
            "date_end": end,
            "total_sessions": len(sessions),
            "live_sessions": sum(1 for s in sessions if s.status == "live"),
            "total_minutes": round(total_minutes),
            "average_minutes": round(total_minutes / len(sessions), 2) if sessions else 0.0,
            "peak_participants": max((s.peak_participants for s in sessions), default=0),
            "per_day": per_day,
        }

    async def participants(
        self, db: AsyncSession, project_id: str, start: datetime, end: datetime
    ) -> dict[str, Any]:
        rows = await StatisticsRepository(db, project_id).participants_overlapping(start, end)
        now = utcnow()
        intervals = [(r.joined_at, r.left_at or now) for r in rows]
        peak, peaks = _peaks(intervals, start, end)
        minutes: dict[date, float] = defaultdict(float)
        present: dict[date, list[Any]] = defaultdict(list)
        for row, (begin, finish) in zip(rows, intervals, strict=True):
            for day, value in _split_minutes(begin, finish, start, end).items():
                minutes[day] += value
                present[day].append(row)

        def unique(group: list[Any]) -> int:
            # A person is their external id when the token carried one; otherwise each participant.
            return len({r.external_id or f"participant:{r.id}" for r in group})

        total_minutes = sum(minutes.values())
        return {
            "date_start": start,
            "date_end": end,
            "total_participants": len(rows),
            "unique_participants": unique(rows),
            "total_minutes": round(total_minutes),
            "average_minutes": round(total_minutes / len(rows), 2) if rows else 0.0,
            "peak_concurrent": peak,
            "per_day": [
                {
                    "date": day,
                    "participants": len(present.get(day, [])),
                    "unique_participants": unique(present.get(day, [])),
                    "minutes": round(minutes.get(day, 0.0)),
                    "peak_concurrent": peaks.get(day, 0),
                }
                for day in _days(start, end)
            ],
        }

    async def recordings(
        self, db: AsyncSession, project_id: str, start: datetime, end: datetime
    ) -> dict[str, Any]:
        rows = await StatisticsRepository(db, project_id).recordings_started(start, end)
        per_day = [
            {
                "date": day,
                "recordings": sum(1 for r in rows if r.started_at.date() == day),
                "minutes": round(sum((r.duration or 0.0) for r in rows if r.started_at.date() == day) / 60),
                "bytes": sum((r.size or 0) for r in rows if r.started_at.date() == day),
            }
            for day in _days(start, end)
        ]
        return {
            "date_start": start,
            "date_end": end,
            "total_recordings": len(rows),
            "ready": sum(1 for r in rows if r.status == "ready"),
            "failed": sum(1 for r in rows if r.status == "failed"),
            "in_progress": sum(1 for r in rows if r.status in ("in_progress", "processing")),
            "total_minutes": round(sum((r.duration or 0.0) for r in rows) / 60),
            "total_bytes": sum((r.size or 0) for r in rows),
            "per_day": per_day,
        }

"""Durable jobs of the recordings domain, thin wrappers around ``RecordingService``.

``recording.process`` — payload ``{"recording_id"}``: janus-pp-rec + ffmpeg, then storage.
Idempotent (a run that dies mid-way is re-claimed when its lease expires and starts over).
``recording.expire`` — no payload: the retention sweep; it reschedules itself.
"""

from __future__ import annotations

from typing import Any

from conclave.kit.jobs import JobQueue, Reschedule
from conclave.recordings.service import EXPIRE_JOB, PROCESS_JOB, RecordingService


def register(jobs: JobQueue, recordings: RecordingService) -> None:
    async def process(payload: dict[str, Any]) -> Reschedule | None:
        await recordings.process(str(payload["recording_id"]))
        return None

    async def expire(payload: dict[str, Any]) -> Reschedule | None:
        return await recordings.expire()

    jobs.register(PROCESS_JOB, process)
    jobs.register(EXPIRE_JOB, expire)

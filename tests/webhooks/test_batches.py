"""The group commit of webhook rounds keeps each webhook's failure its own."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.webhooks.service import DeliveryBatches, _Outcome


class Recorder:
    """Stands in for ``WebhookService.record_rounds``: refuses any batch holding a "bad" outcome."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def record_rounds(self, session: AsyncSession, outcomes: list[Any]) -> None:
        self.batches.append([outcome.unsent[0] for outcome in outcomes])
        if any(outcome.unsent[0] == "bad" for outcome in outcomes):
            raise RuntimeError("this outcome cannot be stored")


def outcome(name: str) -> Any:
    return _Outcome(taken=None, sent=[], unsent=[name], finishes=None)  # type: ignore[arg-type]


async def test_a_failing_outcome_is_recorded_alone_and_the_others_still_land(webhook_app: FastAPI) -> None:
    recorder = Recorder()
    batches = DeliveryBatches(recorder, webhook_app.state.sessionmaker, webhook_app.state.bus)  # type: ignore[arg-type]
    results = await asyncio.gather(*(batches.record(outcome(name)) for name in ("a", "bad", "c")))
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], RuntimeError)
    # One shared transaction first; when it fails, each outcome on its own.
    assert recorder.batches == [["a", "bad", "c"], ["a"], ["bad"], ["c"]]

"""Several workers on PostgreSQL share the outbox: every delivery once, order per room kept."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from conclave.app import build_runtime
from tests.conftest import make_settings
from tests.factories import create_project, create_room
from tests.webhooks.conftest import FAST
from tests.webhooks.helpers import create_webhook
from tests.webhooks.receiver import Received, Receiver


@pytest.mark.postgresql_only
async def test_two_workers_deliver_each_event_once(
    database_url: str, tmp_path: Path, webhook_app: FastAPI, webhook_client: httpx.AsyncClient
) -> None:
    counts: Counter[str] = Counter()

    async def slowish(request: Received) -> int:
        counts[request.delivery_id] += 1
        await asyncio.sleep(0.01)
        return 200

    receivers = [await Receiver(respond=slowish).start() for _ in range(2)]
    # A second, independent process-like worker: its own engine, connections, sender and runner.
    other = build_runtime(make_settings(database_url, tmp_path, **FAST))
    workers = [webhook_app.state.runner, other.runner]
    try:
        for worker in workers:
            await worker.start()
        project = await create_project(webhook_client)
        for target in receivers:
            await create_webhook(webhook_client, project, target.url)
        rooms = [await create_room(webhook_client, project) for _ in range(4)]
        for step in range(3):
            for room in rooms:
                response = await webhook_client.patch(
                    f"/api/v1/rooms/{room['id']}", json={"name": f"step {step}"}, headers=project.headers
                )
                assert response.status_code == 200
        for target in receivers:
            await target.wait_for(lambda target=target: len(target.accepted) == 16, within=30)  # type: ignore[misc]
        await asyncio.sleep(0.3)  # a duplicate would arrive now, if the claim were not exclusive
        for target in receivers:
            assert len(target.requests) == 16
            for room in rooms:
                events = [r.json["event"] for r in target.accepted if r.json["data"]["room_id"] == room["id"]]
                assert events == ["room.created", "room.updated", "room.updated", "room.updated"]
        assert set(counts.values()) == {1}
    finally:
        for worker in workers:
            await worker.stop()
        await other.engine.dispose()
        for target in receivers:
            await target.stop()

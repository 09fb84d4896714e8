"""Delivery through a real HTTP receiver on loopback: signatures, retries, order, isolation."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from conclave.kit.jobs import JobRunner
from conclave.webhooks.signing import verify
from tests.factories import create_project, create_room
from tests.webhooks.helpers import create_webhook, deliveries, eventually
from tests.webhooks.receiver import Received, Receiver


async def test_signed_payload_and_headers(
    webhook_client: httpx.AsyncClient, runner: JobRunner, receiver: Receiver
) -> None:
    project = await create_project(webhook_client)
    secret = "receiver-secret-0123456789"
    webhook = await create_webhook(webhook_client, project, receiver.url, secret=secret, events=["room.*"])
    room = await create_room(webhook_client, project, friendly_url="signed-room", name="Signed")

    await receiver.wait_for(lambda: len(receiver.accepted) == 1)
    request = receiver.accepted[0]
    headers = request.headers
    assert verify(secret, headers["x-conclave-timestamp"], request.body, headers["x-signature"])
    assert not verify(
        "another-secret-0123456", headers["x-conclave-timestamp"], request.body, headers["x-signature"]
    )
    assert headers["x-conclave-event"] == "room.created"
    assert headers["content-type"] == "application/json"
    body = request.json
    assert set(body) == {"event", "timestamp", "data"}
    assert body["event"] == "room.created"
    assert body["timestamp"].endswith("Z")
    assert body["data"]["room_id"] == room["id"]
    assert body["data"]["friendly_url"] == "signed-room"
    assert body["data"]["name"] == "Signed"

    async def delivered() -> bool:
        rows = await deliveries(webhook_client, project, webhook["id"])
        return len(rows) == 1 and rows[0]["status"] == "delivered"

    await eventually(delivered)
    [row] = await deliveries(webhook_client, project, webhook["id"])
    assert row["id"] == headers["x-conclave-delivery"]
    assert (row["attempts"], row["last_status_code"], row["next_attempt_at"]) == (1, 200, None)
    assert row["event"] == "room.created" and row["room_id"] == room["id"]
    assert row["payload"] == body
    assert row["last_response"] == "ok"


async def test_failing_receiver_gets_each_delivery_exactly_once(
    webhook_client: httpx.AsyncClient, runner: JobRunner, receiver: Receiver
) -> None:
    seen: Counter[str] = Counter()

    def fail_twice(request: Received) -> int:
        seen[request.delivery_id] += 1
        return 200 if seen[request.delivery_id] > 2 else 503

    receiver.respond = fail_twice
    project = await create_project(webhook_client)
    webhook = await create_webhook(webhook_client, project, receiver.url)
    room = await create_room(webhook_client, project)
    response = await webhook_client.patch(
        f"/api/v1/rooms/{room['id']}", json={"name": "renamed"}, headers=project.headers
    )
    assert response.status_code == 200

    await receiver.wait_for(lambda: len(receiver.accepted) == 2)
    ids = receiver.accepted_ids()
    assert len(set(ids)) == 2
    assert all(seen[delivery_id] == 3 for delivery_id in ids)
    assert [r.json["event"] for r in receiver.accepted] == ["room.created", "room.updated"]

    async def settled() -> bool:
        rows = await deliveries(webhook_client, project, webhook["id"])
        return [row["status"] for row in rows] == ["delivered", "delivered"]

    await eventually(settled)
    rows = await deliveries(webhook_client, project, webhook["id"])
    assert [row["attempts"] for row in rows] == [3, 3]
    assert sorted(row["id"] for row in rows) == sorted(ids)


async def test_order_per_room_holds_through_failures(
    webhook_client: httpx.AsyncClient, runner: JobRunner, receiver: Receiver
) -> None:
    count = 0

    def flaky(_request: Received) -> int:
        nonlocal count
        count += 1
        return 500 if count % 3 == 1 else 200

    receiver.respond = flaky
    project = await create_project(webhook_client)
    await create_webhook(webhook_client, project, receiver.url)
    rooms = [await create_room(webhook_client, project) for _ in range(2)]
    for step in range(4):
        for room in rooms:
            response = await webhook_client.patch(
                f"/api/v1/rooms/{room['id']}", json={"description": f"step {step}"}, headers=project.headers
            )
            assert response.status_code == 200
    for room in rooms:
        assert (
            await webhook_client.delete(f"/api/v1/rooms/{room['id']}", headers=project.headers)
        ).status_code == 204

    await receiver.wait_for(lambda: len(receiver.accepted) == 12)
    assert len(set(receiver.accepted_ids())) == 12
    for room in rooms:
        mine = [r.json for r in receiver.accepted if r.json["data"]["room_id"] == room["id"]]
        assert [body["event"] for body in mine] == ["room.created", *["room.updated"] * 4, "room.deleted"]
        # Compared as times: ISO-8601 leaves out the fraction when it is exactly zero.
        timestamps = [datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00")) for body in mine]
        assert timestamps == sorted(timestamps)


async def test_slow_receiver_does_not_block_other_endpoints(
    webhook_client: httpx.AsyncClient, runner: JobRunner, receiver: Receiver
) -> None:
    gate = asyncio.Event()

    async def stuck(_request: Received) -> int:
        await gate.wait()
        return 200

    slow = await Receiver(respond=stuck).start()
    try:
        project = await create_project(webhook_client)
        await create_webhook(webhook_client, project, slow.url)
        await create_webhook(webhook_client, project, receiver.url)
        for _ in range(3):
            await create_room(webhook_client, project)
        await receiver.wait_for(lambda: len(receiver.accepted) == 3)
        assert slow.accepted == []  # still held, yet the fast endpoint got everything
        gate.set()
        await slow.wait_for(lambda: len(slow.accepted) == 3)
    finally:
        gate.set()
        await slow.stop()


async def test_webhooks_of_one_event_share_their_statements(
    webhook_app: FastAPI, webhook_client: httpx.AsyncClient, runner: JobRunner, receiver: Receiver
) -> None:
    """Ten webhooks' jobs lease and record together: a few statements for all, not a few each."""
    project = await create_project(webhook_client)
    for index in range(10):
        await create_webhook(webhook_client, project, f"{receiver.url}?webhook={index}")
    queue_statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "webhook_deliveries" in statement and not statement.lstrip().upper().startswith("INSERT"):
            queue_statements.append(statement)

    engine = webhook_app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await create_room(webhook_client, project)
        await receiver.wait_for(lambda: len(receiver.accepted) == 10)
        await asyncio.sleep(0.3)  # let the jobs record their outcomes
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Heads, lease, outcomes: 3 when all ten jobs start together; the runner may split them in two.
    assert 3 <= len(queue_statements) <= 6, queue_statements


async def test_gone_disables_the_webhook(
    webhook_client: httpx.AsyncClient, runner: JobRunner, receiver: Receiver
) -> None:
    receiver.respond = lambda _request: 410
    project = await create_project(webhook_client)
    webhook = await create_webhook(webhook_client, project, receiver.url)
    await create_room(webhook_client, project)

    async def disabled() -> bool:
        response = await webhook_client.get(f"/api/v1/webhooks/{webhook['id']}", headers=project.headers)
        return response.json()["enabled"] is False

    await eventually(disabled)
    body = (await webhook_client.get(f"/api/v1/webhooks/{webhook['id']}", headers=project.headers)).json()
    assert "410" in body["disabled_reason"]
    [row] = await deliveries(webhook_client, project, webhook["id"])
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("failed", 1, 410)

    # While disabled nothing is queued for it; re-enabling resumes with new events.
    receiver.respond = lambda _request: 200
    await create_room(webhook_client, project)
    assert len(await deliveries(webhook_client, project, webhook["id"])) == 1
    response = await webhook_client.patch(
        f"/api/v1/webhooks/{webhook['id']}", json={"enabled": True}, headers=project.headers
    )
    assert response.status_code == 200 and response.json()["disabled_reason"] is None
    await create_room(webhook_client, project)
    await receiver.wait_for(lambda: len(receiver.accepted) == 1)


async def test_gives_up_after_the_retry_period_then_redelivers(
    webhook_client: httpx.AsyncClient, runner: JobRunner, receiver: Receiver
) -> None:
    receiver.respond = lambda _request: 500
    project = await create_project(webhook_client)
    webhook = await create_webhook(webhook_client, project, receiver.url)
    await create_room(webhook_client, project)

    async def failed() -> bool:
        rows = await deliveries(webhook_client, project, webhook["id"])
        return rows[0]["status"] == "failed"

    await eventually(failed, within=20)
    [row] = await deliveries(webhook_client, project, webhook["id"])
    assert row["attempts"] >= 2 and row["last_status_code"] == 500
    assert "gave up" in row["last_error"]
    assert len(receiver.requests) == row["attempts"]
    assert {r.delivery_id for r in receiver.requests} == {row["id"]}
    endpoint = (await webhook_client.get(f"/api/v1/webhooks/{webhook['id']}", headers=project.headers)).json()
    assert endpoint["consecutive_failures"] == 1 and endpoint["enabled"] is True

    receiver.respond = lambda _request: 204
    url = f"/api/v1/webhooks/{webhook['id']}/deliveries/{row['id']}/redeliver"
    response = await webhook_client.post(url, headers=project.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending"
    await receiver.wait_for(lambda: len(receiver.accepted) == 1)
    assert receiver.accepted[0].delivery_id == row["id"]

    async def delivered() -> bool:
        rows = await deliveries(webhook_client, project, webhook["id"])
        return rows[0]["status"] == "delivered"

    await eventually(delivered)
    endpoint = (await webhook_client.get(f"/api/v1/webhooks/{webhook['id']}", headers=project.headers)).json()
    assert endpoint["consecutive_failures"] == 0


async def test_project_webhook_url_receives_every_event(
    webhook_client: httpx.AsyncClient, runner: JobRunner, receiver: Receiver
) -> None:
    from tests.factories import create_org

    org = await create_org(webhook_client)
    project = await create_project(webhook_client, org)
    response = await webhook_client.patch(
        f"/api/v1/projects/{project.id}", json={"webhook_url": receiver.url}, headers=org.headers
    )
    assert response.status_code == 200, response.text
    listed = (await webhook_client.get("/api/v1/webhooks", headers=project.headers)).json()
    assert listed["total_count"] == 1
    [mirror] = listed["data"]
    assert (mirror["source"], mirror["endpoint"], mirror["events"]) == ("project", receiver.url, [])

    await create_room(webhook_client, project)
    await receiver.wait_for(lambda: len(receiver.accepted) == 1)
    request = receiver.accepted[0]
    assert verify(
        mirror["secret"],
        request.headers["x-conclave-timestamp"],
        request.body,
        request.headers["x-signature"],
    )

    response = await webhook_client.delete(f"/api/v1/webhooks/{mirror['id']}", headers=project.headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "project_webhook_managed"
    response = await webhook_client.patch(
        f"/api/v1/webhooks/{mirror['id']}", json={"endpoint": "http://127.0.0.1:1/x"}, headers=project.headers
    )
    assert response.status_code == 409


async def test_rolled_back_request_writes_no_outbox_rows(
    webhook_client: httpx.AsyncClient, runner: JobRunner, receiver: Receiver
) -> None:
    project = await create_project(webhook_client)
    webhook = await create_webhook(webhook_client, project, receiver.url)
    await create_room(webhook_client, project, friendly_url="taken-name")
    response = await webhook_client.post(
        "/api/v1/rooms", json={"friendly_url": "taken-name"}, headers=project.headers
    )
    assert response.status_code == 409
    await receiver.wait_for(lambda: len(receiver.accepted) == 1)
    assert len(await deliveries(webhook_client, project, webhook["id"])) == 1


@pytest.mark.parametrize("status", ["pending", "bogus"])
async def test_delivery_filters(webhook_client: httpx.AsyncClient, status: str) -> None:
    project = await create_project(webhook_client)
    webhook = await create_webhook(webhook_client, project, "http://127.0.0.1:9/hook")
    await create_room(webhook_client, project)
    response = await webhook_client.get(
        f"/api/v1/webhooks/{webhook['id']}/deliveries", params={"status": status}, headers=project.headers
    )
    if status == "bogus":
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"
        return
    body = response.json()
    assert body["total_count"] == 1 and body["data"][0]["status"] == "pending"
    url = f"/api/v1/webhooks/{webhook['id']}/deliveries/{body['data'][0]['id']}/redeliver"
    response = await webhook_client.post(url, headers=project.headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "delivery_pending"

"""Webhook CRUD on the native API: shapes, validation, tenancy, the private-address rule."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from conclave.app import create_app
from tests.conftest import PUBLIC_URL, make_settings
from tests.factories import create_org, create_project, create_room
from tests.webhooks.helpers import create_webhook


async def test_crud(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    created = await create_webhook(
        client,
        project,
        "https://hooks.example.com/conclave",
        events=["session.started", "room.*"],
        description="ops",
    )
    assert created["endpoint"] == "https://hooks.example.com/conclave"
    assert created["events"] == ["session.started", "room.*"]
    assert len(created["secret"]) >= 16
    assert (created["enabled"], created["source"], created["description"]) == (True, "api", "ops")

    listed = (await client.get("/api/v1/webhooks", headers=project.headers)).json()
    assert listed["total_count"] == 1 and listed["data"][0]["id"] == created["id"]
    fetched = (await client.get(f"/api/v1/webhooks/{created['id']}", headers=project.headers)).json()
    assert fetched == created

    response = await client.patch(
        f"/api/v1/webhooks/{created['id']}",
        json={"events": ["*"], "secret": "s" * 20, "enabled": False, "description": None},
        headers=project.headers,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["events"], updated["secret"], updated["enabled"], updated["description"]) == (
        ["*"],
        "s" * 20,
        False,
        None,
    )
    assert updated["disabled_reason"] == "disabled through the API"

    assert (
        await client.delete(f"/api/v1/webhooks/{created['id']}", headers=project.headers)
    ).status_code == 204
    response = await client.get(f"/api/v1/webhooks/{created['id']}", headers=project.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "webhook_not_found"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"endpoint": "ftp://example.com/x"}, 422, "webhook_endpoint_refused"),
        ({"endpoint": "not a url"}, 422, "webhook_endpoint_refused"),
        ({"endpoint": "https://example.com/x", "events": ["room.exploded"]}, 422, "validation_error"),
        ({"endpoint": "https://example.com/x", "events": "room.created"}, 422, "validation_error"),
        ({"endpoint": "https://example.com/x", "secret": "short"}, 422, "validation_error"),
        ({"endpoint": "https://example.com/x", "colour": "red"}, 422, "validation_error"),
        ({}, 422, "validation_error"),
    ],
)
async def test_create_validation(
    client: httpx.AsyncClient, body: dict[str, object], status: int, code: str
) -> None:
    project = await create_project(client)
    response = await client.post("/api/v1/webhooks", json=body, headers=project.headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_conflicts_and_tenancy(client: httpx.AsyncClient) -> None:
    project, other = await create_project(client), await create_project(client)
    webhook = await create_webhook(client, project, "https://example.com/a")
    response = await client.post(
        "/api/v1/webhooks", json={"endpoint": "https://example.com/a"}, headers=project.headers
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "webhook_exists"
    for path in (f"/api/v1/webhooks/{webhook['id']}", f"/api/v1/webhooks/{webhook['id']}/deliveries"):
        response = await client.get(path, headers=other.headers)
        assert response.status_code == 404, path
    assert (await client.get("/api/v1/webhooks/not-a-uuid", headers=project.headers)).status_code == 404
    response = await client.patch(
        f"/api/v1/webhooks/{webhook['id']}", json={"enabled": None}, headers=project.headers
    )
    assert response.status_code == 422
    missing = f"/api/v1/webhooks/{webhook['id']}/deliveries/00000000-0000-0000-0000-000000000000/redeliver"
    response = await client.post(missing, headers=project.headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "delivery_not_found"
    assert (
        await client.get("/api/v1/webhooks", params={"limit": 101}, headers=project.headers)
    ).status_code == 422


async def test_private_addresses_refused_in_production(database_url: str, tmp_path: Path) -> None:
    for overrides, expected in (
        ({"mode": "production"}, 422),
        ({"mode": "production", "webhooks_allow_private": True}, 200),
    ):
        application = create_app(make_settings(database_url, tmp_path, **overrides))
        try:
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
                project = await create_project(http)
                for url in (
                    "http://127.0.0.1:8080/hook",
                    "http://localhost/hook",
                    "http://[::1]/x",
                    "http://10.1.2.3/x",
                ):
                    response = await http.post(
                        "/api/v1/webhooks", json={"endpoint": url}, headers=project.headers
                    )
                    assert response.status_code == expected, (url, response.text)
                    if expected == 422:
                        assert response.json()["error"]["code"] == "webhook_endpoint_refused"
        finally:
            await application.state.engine.dispose()


async def test_a_webhook_added_after_events_gets_the_next_ones(client: httpx.AsyncClient) -> None:
    """The outbox remembers projects without webhooks; adding one must end that at once."""
    org = await create_org(client)
    project = await create_project(client, org)
    await create_room(client, project)  # an event while the project has no webhook at all
    webhook = await create_webhook(client, project, "https://hooks.example.com/late", events=["room.*"])
    room = await create_room(client, project)
    deliveries = (
        await client.get(f"/api/v1/webhooks/{webhook['id']}/deliveries", headers=project.headers)
    ).json()
    assert [(d["event"], d["room_id"]) for d in deliveries["data"]] == [("room.created", room["id"])]

    other = await create_project(client, org)
    await create_room(client, other)
    body = {"webhook_url": "https://hooks.example.com/p"}
    changed = await client.patch(f"/api/v1/projects/{other.id}", json=body, headers=org.headers)
    assert changed.status_code == 200, changed.text
    room = await create_room(client, other)
    listed = (await client.get("/api/v1/webhooks", headers=other.headers)).json()
    assert [w["source"] for w in listed["data"]] == ["project"]
    deliveries = (
        await client.get(f"/api/v1/webhooks/{listed['data'][0]['id']}/deliveries", headers=other.headers)
    ).json()
    assert [(d["event"], d["room_id"]) for d in deliveries["data"]] == [("room.created", room["id"])]

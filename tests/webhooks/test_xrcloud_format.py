"""An XRCLOUD project's webhookUrl gets room-join enter/exit bodies through the durable outbox."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from conclave.compat.xrcloud.schemas import reticulum_id
from conclave.kit.jobs import JobRunner
from conclave.kit.transaction import transaction
from tests.compat.xrcloud.helpers import new_org, new_project
from tests.factories import ProjectKeys
from tests.webhooks.receiver import Receiver


async def test_room_join_payloads(
    webhook_app: FastAPI, webhook_client: httpx.AsyncClient, runner: JobRunner, receiver: Receiver
) -> None:
    org = await new_org(webhook_client)
    xr_project = await new_project(webhook_client, org)
    project_id = xr_project["id"]
    response = await webhook_client.patch(
        f"/api/v1/projects/{project_id}", json={"webhook_url": receiver.url}, headers=org.headers
    )
    assert response.status_code == 200 and response.json()["webhook_format"] == "xrcloud"
    issued = (
        await webhook_client.post(f"/api/v1/projects/{project_id}/credentials", headers=org.headers)
    ).json()
    project = ProjectKeys(
        id=project_id,
        organization_id=org.id,
        api_key=issued["key_id"],
        secret_key=issued["secret"],
        app_id="",
    )
    room = (await webhook_client.post("/api/v1/rooms", json={}, headers=project.headers)).json()
    token = (
        await webhook_client.post(
            f"/api/v1/rooms/{room['id']}/token", json={"u": "Ann", "ud": "acct-7"}, headers=project.headers
        )
    ).json()["token"]

    sessions = webhook_app.state.sessions
    async with transaction(webhook_app.state.sessionmaker, webhook_app.state.bus) as db:
        ticket = await sessions.authorize(db, token=token, room_ref=None, display_name=None)
        entered = await sessions.enter(db, ticket, ip="127.0.0.1", user_agent="test", media_node=None)
    async with transaction(webhook_app.state.sessionmaker, webhook_app.state.bus) as db:
        await sessions.leave(db, project_id, entered.participant.id, "left")

    await receiver.wait_for(lambda: len(receiver.accepted) >= 2)
    bodies = [r.json for r in receiver.accepted]
    assert [b["action"] for b in bodies] == ["enter", "exit"]  # room.created and session.* are not sent
    for body in bodies:
        assert body["code"] == "room-join"
        assert body["resourceId"] == room["id"] and body["sessionId"] == entered.session.id
        assert body["reticulumId"] == reticulum_id(project_id, "acct-7")
        assert body["logTime"].endswith("Z") and len(body["logTime"]) == 24

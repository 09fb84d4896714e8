"""``GET/PATCH /api/v1``: a project's default room settings."""

from __future__ import annotations

import httpx

from tests.factories import create_project, create_room


async def test_defaults_apply_to_new_rooms_only(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    defaults = (await client.get("/api/v1", headers=project.headers)).json()
    assert defaults["session_length"] == 1440 and defaults["domain"] is None
    assert {"chat_enabled", "toolbar", "roles", "default_role", "watermark_text"} <= set(defaults)
    before = await create_room(client, project)

    body = {
        "domain": "custom.domain.com",
        "default_role": "viewer",
        "session_length": 60,
        "max_participants": 10,
        "chat_enabled": False,
    }
    response = await client.patch("/api/v1", json=body, headers=project.headers)
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in body} == body

    after = await create_room(client, project)
    assert (
        after["default_role"],
        after["session_length"],
        after["max_participants"],
        after["chat_enabled"],
    ) == (
        "viewer",
        60,
        10,
        False,
    )
    unchanged = (await client.get(f"/api/v1/rooms/{before['id']}", headers=project.headers)).json()
    assert unchanged["session_length"] == 1440 and unchanged["chat_enabled"] is True


async def test_invalid_defaults_are_refused(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    original = (await client.get("/api/v1", headers=project.headers)).json()
    for body in (
        {"session_length": 0},
        {"default_role": "ghost"},
        {"roles": ["viewer"]},
        {"domain": "bad domain"},
        {"chat_enabled": 1},
        {"nope": True},
    ):
        response = await client.patch("/api/v1", json=body, headers=project.headers)
        assert response.status_code == 422, (body, response.text)
    assert (await client.get("/api/v1", headers=project.headers)).json() == original

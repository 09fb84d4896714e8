"""Roles and permissions."""

from __future__ import annotations

import httpx

from tests.factories import create_project, create_room


async def test_built_in_and_custom_roles(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    headers = project.headers
    listing = (await client.get("/api/v1/roles", params={"order": "asc"}, headers=headers)).json()
    assert [r["name"] for r in listing["data"]] == ["moderator", "speaker", "attendee", "viewer"]
    assert all(r["built_in"] for r in listing["data"])
    viewer = (await client.get("/api/v1/roles/viewer", headers=headers)).json()
    assert viewer["permissions"]["broadcast"] is False and viewer["permissions"]["chat"] is True

    body = {
        "name": "presenter",
        "display_name": "Presenter",
        "permissions": {
            "broadcast": True,
            "screenshare": True,
            "chat": True,
            "raise_hand": True,
            "recording": False,
            "emoji_reactions": True,
        },
    }
    response = await client.post("/api/v1/roles", json=body, headers=headers)
    assert response.status_code == 200, response.text
    role = response.json()
    assert role["permissions"]["screenshare"] and not role["permissions"]["end_session"]
    assert (await client.post("/api/v1/roles", json=body, headers=headers)).status_code == 409
    assert (
        await client.post("/api/v1/roles", json={"name": "moderator"}, headers=headers)
    ).status_code == 409
    bad = {"name": "x", "permissions": {"fly": True}}
    assert (await client.post("/api/v1/roles", json=bad, headers=headers)).status_code == 422
    assert (
        await client.post("/api/v1/roles", json={"name": "has space"}, headers=headers)
    ).status_code == 422

    response = await client.patch(
        f"/api/v1/roles/{role['id']}", json={"permissions": {"recording": True}}, headers=headers
    )
    assert response.json()["permissions"]["recording"] and response.json()["permissions"]["screenshare"]
    assert (
        await client.patch("/api/v1/roles/moderator", json={"display_name": "Boss"}, headers=headers)
    ).status_code == 409
    assert (await client.delete("/api/v1/roles/viewer", headers=headers)).status_code == 409

    room = await create_room(client, project, roles=["moderator", "presenter"], default_role="presenter")
    response = await client.delete("/api/v1/roles/presenter", headers=headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "role_in_use"
    await client.delete(f"/api/v1/rooms/{room['id']}", headers=headers)
    assert (await client.delete("/api/v1/roles/presenter", headers=headers)).status_code == 204
    assert (await client.get(f"/api/v1/roles/{role['id']}", headers=headers)).status_code == 404

    other = await create_project(client)
    await client.post("/api/v1/roles", json={"name": "secret-role"}, headers=other.headers)
    assert (await client.get("/api/v1/roles/secret-role", headers=headers)).status_code == 404
    response = await client.post(
        "/api/v1/rooms", json={"roles": ["secret-role"], "default_role": "secret-role"}, headers=headers
    )
    assert response.status_code == 422


async def test_roles_pagination(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    for name in ("r1", "r2", "r3"):
        await client.post("/api/v1/roles", json={"name": name}, headers=project.headers)
    page = (
        await client.get(
            "/api/v1/roles", params={"limit": 2, "order": "asc", "after": "viewer"}, headers=project.headers
        )
    ).json()
    assert page["total_count"] == 7 and [r["name"] for r in page["data"]] == ["r1", "r2"]
    page = (
        await client.get("/api/v1/roles", params={"limit": 2, "offset": 1}, headers=project.headers)
    ).json()
    assert [r["name"] for r in page["data"]] == ["r2", "r1"]

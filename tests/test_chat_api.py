"""Chat REST endpoints without a live meeting: validation, isolation, deletes."""

from __future__ import annotations

import httpx

from tests.factories import create_project, create_room


async def test_chat_endpoints(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    room = await create_room(client, project)
    headers = project.headers
    response = await client.post(f"/api/v1/rooms/{room['id']}/chat", json={"message": "hi"}, headers=headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_live_session"
    for bad in ({"message": ""}, {"message": "x" * 4001}, {"text": "hi"}, {"message": 5}):
        response = await client.post(f"/api/v1/rooms/{room['id']}/chat", json=bad, headers=headers)
        assert response.status_code == 422, bad
    listing = (await client.get(f"/api/v1/rooms/{room['id']}/chat", headers=headers)).json()
    assert listing == {"total_count": 0, "data": []}
    assert (
        await client.get(f"/api/v1/rooms/{room['id']}/chat/export?format=pdf", headers=headers)
    ).status_code == 422
    assert (await client.delete(f"/api/v1/rooms/{room['id']}/chat", headers=headers)).status_code == 204
    assert (await client.delete("/api/v1/sessions/nope/chat", headers=headers)).status_code == 404
    other = await create_project(client)
    assert (await client.get(f"/api/v1/rooms/{room['id']}/chat", headers=other.headers)).status_code == 404

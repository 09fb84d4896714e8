"""The Videsk reference's example requests, driven in its order, with its status and response shapes.

The reference has no collection; these are its printed HTTP examples (``Accept: */*``, JSON bodies).
One deviation, on purpose: the PATCH example sets ``exp`` to 2024-08-14T20:00Z, which precedes the
room's ``nbf`` (now, by default) and is refused; the script sends the same change three days ahead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.factories import create_project

ROOM_KEYS = {"id", "name", "externalId", "exp", "nbf", "authorizations"}
AUTHORIZATION_KEYS = {"ip", "jti", "createdAt"}


def assert_room(room: dict[str, Any]) -> None:
    assert set(room) >= ROOM_KEYS
    assert len(room["id"]) == 24 and int(room["id"], 16) >= 0
    for field in ("exp", "nbf"):
        assert room[field].endswith("Z") and len(room[field]) == len("2024-08-14T18:00:00.000Z")
    for authorization in room["authorizations"]:
        assert set(authorization) == AUTHORIZATION_KEYS


async def test_reference_examples_in_order(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    headers = {"Authorization": f"Bearer {project.secret_key}", "Accept": "*/*"}
    json_headers = {**headers, "Content-Type": "application/json"}

    # GET /vpaas/rooms → {"total", "limit", "skip", "data"}
    listed = await client.get("/vpaas/rooms", headers=headers)
    assert listed.status_code == 200
    assert listed.json() == {"total": 0, "limit": 10, "skip": 0, "data": []}

    # POST /vpaas/rooms {"name": "Team standup meeting", "externalId": "standup-2024-08-14"}
    created = await client.post(
        "/vpaas/rooms",
        content=b'{\n"name": "Team standup meeting",\n"externalId": "standup-2024-08-14"\n}',
        headers=json_headers,
    )
    assert created.status_code == 201, created.text
    room = created.json()
    assert_room(room)
    assert room["name"] == "Team standup meeting"
    assert room["externalId"] == "standup-2024-08-14"
    assert room["accessToken"].startswith("eyJ")  # an HS256 JWT, as the example shows
    assert len(room["authorizations"]) == 1

    # GET /vpaas/rooms again: the room, with its authorizations
    listed = (await client.get("/vpaas/rooms", headers=headers)).json()
    assert listed["total"] == 1 and listed["limit"] == 10 and listed["skip"] == 0
    assert_room(listed["data"][0])

    # GET /vpaas/rooms/{roomId}
    fetched = await client.get(f"/vpaas/rooms/{room['id']}", headers=headers)
    assert fetched.status_code == 200
    assert_room(fetched.json())
    assert "accessToken" not in fetched.json()

    # DELETE /vpaas/rooms/{roomId} → the documented 403 body, verbatim
    deleted = await client.delete(f"/vpaas/rooms/{room['id']}", headers=headers)
    assert deleted.status_code == 403
    assert deleted.json() == {
        "name": "Forbidden",
        "message": "Not allowed",
        "code": 403,
        "className": "forbidden",
    }

    # PATCH /vpaas/rooms/{roomId} {"exp": …T20:00:00.000Z, "generateToken": true}
    exp = (datetime.now(UTC) + timedelta(days=3)).replace(hour=20, minute=0, second=0, microsecond=0)
    body = '{\n"exp": "' + exp.strftime("%Y-%m-%dT%H:%M:%S.000Z") + '",\n"generateToken": true\n}'
    patched = await client.patch(f"/vpaas/rooms/{room['id']}", content=body.encode(), headers=json_headers)
    assert patched.status_code == 200, patched.text
    assert_room(patched.json())
    assert patched.json()["exp"] == exp.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert patched.json()["accessToken"].startswith("eyJ")

    # POST /vpaas/rooms/standup-2024-08-14/join {} → {"accessToken"}
    joined = await client.post("/vpaas/rooms/standup-2024-08-14/join", content=b"{}", headers=json_headers)
    assert joined.status_code == 201, joined.text
    assert set(joined.json()) == {"accessToken"}
    assert (
        len((await client.get(f"/vpaas/rooms/{room['id']}", headers=headers)).json()["authorizations"]) == 3
    )

"""The XRCLOUD reference's operations, driven in its order, with its status codes and shapes.

The reference has no collection; its code samples name paths, headers and bodies. The example ids
(``f24ee5ba-…``, ``1234e5ba-…-abcd95ea1efg``) are replaced by the ids the earlier steps return.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.compat.xrcloud.helpers import ICO, PNG, new_org, path_of

PROJECT = {"id", "name", "webhookUrl", "createdAt", "updatedAt", "faviconUrl", "logoUrl"}
SCENE = {"id", "name", "createdAt", "updatedAt", "thumbnailUrl", "sceneModificationUrl"}
ROOM = {
    "id",
    "name",
    "size",
    "tags",
    "sceneId",
    "createdAt",
    "updatedAt",
    "returnUrl",
    "roomUrl",
    "thumbnailUrl",
}
PAGE = {"items", "total", "skip", "take"}


def room_shape(room: dict[str, Any]) -> None:
    assert set(room) == ROOM
    assert set(room["roomUrl"]) == {"public", "private"}
    for kind in ("public", "private"):
        assert set(room["roomUrl"][kind]) == {"host", "guest"}


async def test_reference_operations_in_order(client: httpx.AsyncClient) -> None:
    org = await new_org(client)
    headers = {"Accept": "application/json", "X-XRCLOUD-API-KEY": org.secret}

    # Create a Project: curl -H "Authorization: Bearer …" -F favicon=@… -F logo=@… -F name=lms -F label=lms
    created = await client.post(
        "/api/projects",
        headers={"Authorization": f"Bearer {org.secret}"},
        data={"name": "lms", "label": "lms"},
        files={"favicon": ("favicon.ico", ICO), "logo": ("logo.png", PNG)},
    )
    assert created.status_code == 201, created.text
    project = created.json()
    assert set(project) == PROJECT
    assert (await client.get(path_of(project["faviconUrl"]))).status_code == 200

    # Retrieve Projects by Label
    by_label = await client.get("/api/projects", params={"label": "lms"}, headers=headers)
    assert by_label.status_code == 200 and [p["id"] for p in by_label.json()] == [project["id"]]

    # Retrieve or Generate XRCLOUD User ID
    user = await client.get(f"/api/projects/{project['id']}/getIdFromUserId/account-1", headers=headers)
    assert user.status_code == 200 and isinstance(user.json(), dict)

    # Retrieve Project Information
    fetched = await client.get(f"/api/projects/{project['id']}", headers=headers)
    assert fetched.status_code == 200 and set(fetched.json()) == PROJECT

    # Retrieve Scene Editor URL, then publish a scene there (the editor is a Conclave page)
    creation = await client.get(
        "/api/scenes/get-creation-url", params={"projectId": project["id"]}, headers=headers
    )
    assert creation.status_code == 200 and set(creation.json()) == {"sceneCreationUrl"}
    editor = await client.get(path_of(creation.json()["sceneCreationUrl"]))
    token = editor.text.split('name="token" value="')[1].split('"')[0]
    published = await client.post("/scenes/new", data={"token": token, "name": "example scene name"})
    assert published.status_code == 201

    # Retrieve Scene List Information
    scenes = await client.get("/api/scenes", params={"projectId": project["id"]}, headers=headers)
    assert scenes.status_code == 200 and set(scenes.json()) == PAGE
    scene = scenes.json()["items"][0]
    assert set(scene) == SCENE and scene["name"] == "example scene name"

    # Retrieve Scene Information
    one = await client.get(f"/api/scenes/{scene['id']}", headers=headers)
    assert one.status_code == 200 and set(one.json()) == SCENE

    # Create a Room (the documented body)
    body = {
        "projectId": project["id"],
        "sceneId": scene["id"],
        "name": "example room name",
        "returnUrl": "https://www.google.com/",
        "size": 10,
    }
    room_response = await client.post(
        "/api/rooms", json=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert room_response.status_code == 201, room_response.text
    room = room_response.json()
    room_shape(room)
    assert (room["name"], room["size"], room["tags"], room["returnUrl"]) == (
        "example room name",
        10,
        [],
        "https://www.google.com/",
    )

    # Retrieve Room List Information
    rooms = await client.get("/api/rooms", params={"projectId": project["id"]}, headers=headers)
    assert rooms.status_code == 200 and set(rooms.json()) == PAGE
    room_shape(rooms.json()["items"][0])

    # Retrieve Room Information
    got = await client.get(f"/api/rooms/{room['id']}", headers=headers)
    assert got.status_code == 200
    room_shape(got.json())

    # Update Room Information (the documented body)
    updated = await client.patch(
        f"/api/rooms/{room['id']}",
        json={"name": "example room name", "size": 10, "returnUrl": "https://www.google.com/"},
        headers=headers,
    )
    assert updated.status_code == 200
    room_shape(updated.json())

    # Retrieve Room Logs: an array
    logs = await client.get(f"/api/rooms/{room['id']}/logs", headers=headers)
    assert logs.status_code == 200 and logs.json() == []

    # Remove a Room, then Remove a Scene: 200 with no body
    assert (await client.delete(f"/api/rooms/{room['id']}", headers=headers)).status_code == 200
    removed = await client.delete(f"/api/scenes/{scene['id']}", headers=headers)
    assert removed.status_code == 200 and removed.content == b""

    # The documented default error body
    missing = await client.get(f"/api/scenes/{scene['id']}", headers=headers)
    assert missing.status_code == 404
    assert set(missing.json()) == {"statusCode", "method", "url", "body", "message"}

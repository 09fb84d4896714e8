"""XRCLOUD: projects, scenes, rooms and logs; auth failures, validation errors, the error body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from fastapi import FastAPI

from conclave.events.models import RoomEvent
from conclave.kit.ids import new_id
from tests.compat.xrcloud.helpers import ICO, PNG, assert_error, key, new_org, new_project, new_scene, path_of
from tests.factories import Org, create_project, unique


@pytest.fixture
async def org(client: httpx.AsyncClient) -> Org:
    return await new_org(client)


@pytest.fixture
async def project(client: httpx.AsyncClient, org: Org) -> dict[str, Any]:
    return await new_project(client, org)


@pytest.fixture
async def scene(client: httpx.AsyncClient, org: Org, project: dict[str, Any]) -> dict[str, Any]:
    return await new_scene(client, org, project["id"], thumbnail_url="https://cdn.example.com/t.jpg")


async def make_room(
    client: httpx.AsyncClient, org: Org, project: dict[str, Any], scene: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    body = {
        "projectId": project["id"],
        "sceneId": scene["id"],
        "name": unique("room"),
        "returnUrl": "https://www.google.com/",
        **extra,
    }
    response = await client.post("/api/rooms", json=body, headers=key(org))
    assert response.status_code == 201, response.text
    room: dict[str, Any] = response.json()
    return room


def token_of(url: str) -> dict[str, Any]:
    token = parse_qs(urlsplit(url).query)["token"][0]
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# -- auth and errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/projects"),
        ("POST", "/api/projects"),
        ("GET", f"/api/projects/{new_id()}"),
        ("GET", f"/api/projects/{new_id()}/getIdFromUserId/u1"),
        ("GET", f"/api/scenes?projectId={new_id()}"),
        ("GET", f"/api/scenes/get-creation-url?projectId={new_id()}"),
        ("GET", f"/api/scenes/{new_id()}"),
        ("DELETE", f"/api/scenes/{new_id()}"),
        ("POST", "/api/rooms"),
        ("GET", f"/api/rooms?projectId={new_id()}"),
        ("GET", f"/api/rooms/{new_id()}"),
        ("PATCH", f"/api/rooms/{new_id()}"),
        ("DELETE", f"/api/rooms/{new_id()}"),
        ("GET", f"/api/rooms/{new_id()}/logs"),
    ],
)
async def test_every_endpoint_requires_the_api_key(client: httpx.AsyncClient, method: str, path: str) -> None:
    assert_error(await client.request(method, path), 401)
    assert_error(await client.request(method, path, headers={"X-XRCLOUD-API-KEY": "wrong"}), 401)


async def test_project_credentials_are_not_organization_keys(client: httpx.AsyncClient) -> None:
    native = await create_project(client)
    assert_error(await client.get("/api/projects", headers={"X-XRCLOUD-API-KEY": native.secret_key}), 401)


async def test_error_body_echoes_the_request(client: httpx.AsyncClient, org: Org) -> None:
    body = assert_error(await client.post("/api/rooms", json={"name": "x"}, headers=key(org)), 400)
    assert body["body"] == {"name": "x"}
    assert body["url"] == "/api/rooms"
    assert body["method"] == "POST"


async def test_unknown_paths_and_methods(client: httpx.AsyncClient, org: Org) -> None:
    assert_error(await client.get("/api/rooms/a/b/c", headers=key(org)), 404)
    assert_error(await client.delete("/api/projects", headers=key(org)), 405)


# -- projects ------------------------------------------------------------------------------------


async def test_create_project_with_files_and_serve_them(client: httpx.AsyncClient, org: Org) -> None:
    response = await client.post(
        "/api/projects",
        data={"name": "lms", "label": "lms"},
        files={"favicon": ("favicon.ico", ICO, "image/x-icon"), "logo": ("logo.png", PNG, "image/png")},
        headers=key(org),
    )
    assert response.status_code == 201, response.text
    project = response.json()
    assert set(project) == {"id", "name", "webhookUrl", "createdAt", "updatedAt", "faviconUrl", "logoUrl"}
    assert project["name"] == "lms" and project["webhookUrl"] is None
    assert project["createdAt"].endswith("Z") and len(project["createdAt"]) == 24
    for field, content, media_type in (("faviconUrl", ICO, "image/x-icon"), ("logoUrl", PNG, "image/png")):
        assert project[field].startswith("http://conclave.test/storage/")
        served = await client.get(path_of(project[field]))
        assert served.status_code == 200
        assert served.content == content
        assert served.headers["content-type"] == media_type
        assert served.headers["x-content-type-options"] == "nosniff"
    assert (await client.get(f"/api/projects/{project['id']}", headers=key(org))).json() == project


async def test_create_project_with_bearer_and_defaults(client: httpx.AsyncClient, org: Org) -> None:
    response = await client.post("/api/projects", headers={"Authorization": f"Bearer {org.secret}"})
    assert response.status_code == 201, response.text
    assert response.json()["name"].startswith("project-")
    assert response.json()["faviconUrl"] is None and response.json()["logoUrl"] is None
    urlencoded = await client.post("/api/projects", data={"label": unique("lbl")}, headers=key(org))
    assert urlencoded.status_code == 201


@pytest.mark.parametrize(
    ("files", "status"),
    [
        ({"favicon": ("f.ico", b"", "image/x-icon")}, 400),
        ({"favicon": ("f.svg", b"<svg onload='x'/>", "image/svg+xml")}, 415),
        ({"logo": ("l.png", b"GIF89a" + b"\x00" * 10, "image/png")}, 200),
        ({"favicon": ("f.ico", ICO + b"\x00" * 300_000, "image/x-icon")}, 413),
        ({"logo": ("l.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024 + 1), "image/png")}, 413),
        ({"logo": ("l.exe", b"MZ\x90\x00", "image/png")}, 415),
    ],
)
async def test_bad_files_are_refused(
    client: httpx.AsyncClient, org: Org, files: dict[str, Any], status: int
) -> None:
    response = await client.post("/api/projects", data={"name": unique("p")}, files=files, headers=key(org))
    if status == 200:
        assert response.status_code == 201, response.text  # a GIF named .png is stored as what it is
        assert response.json()["logoUrl"].endswith(".gif")
        return
    assert_error(response, status)
    assert (await client.get("/api/projects", headers=key(org))).json() == []


async def test_oversized_body_and_wrong_content_type(client: httpx.AsyncClient, org: Org) -> None:
    too_big = await client.post(
        "/api/projects",
        files={"logo": ("l.png", b"\x00" * (3 * 1024 * 1024 + 10), "image/png")},
        headers=key(org),
    )
    assert_error(too_big, 413)
    assert_error(await client.post("/api/projects", json={"name": "x"}, headers=key(org)), 415)


async def test_duplicate_project_name_conflicts(client: httpx.AsyncClient, org: Org) -> None:
    name = unique("dup")
    await new_project(client, org, name=name)
    assert_error(await client.post("/api/projects", data={"name": name}, headers=key(org)), 409)
    assert_error(await client.post("/api/projects", data={"name": "x" * 201}, headers=key(org)), 400)


async def test_projects_by_label_and_isolation(client: httpx.AsyncClient, org: Org) -> None:
    label = unique("lms")
    tagged = await new_project(client, org, label=label)
    untagged = await new_project(client, org)
    every = [p["id"] for p in (await client.get("/api/projects", headers=key(org))).json()]
    assert every == [tagged["id"], untagged["id"]]
    only = (await client.get("/api/projects", params={"label": label}, headers=key(org))).json()
    assert [p["id"] for p in only] == [tagged["id"]]
    other = await new_org(client)
    assert (await client.get("/api/projects", headers=key(other))).json() == []
    assert_error(await client.get(f"/api/projects/{tagged['id']}", headers=key(other)), 404)
    assert_error(await client.get(f"/api/projects/{tagged['id']}/getIdFromUserId/u", headers=key(other)), 404)


async def test_reticulum_id_is_stable_per_account(
    client: httpx.AsyncClient, org: Org, project: dict[str, Any]
) -> None:
    path = f"/api/projects/{project['id']}/getIdFromUserId"
    first = (await client.get(f"{path}/user-1", headers=key(org))).json()
    again = (await client.get(f"{path}/user-1", headers=key(org))).json()
    other = (await client.get(f"{path}/user-2", headers=key(org))).json()
    assert first == again and first != other
    assert first["reticulumId"].isdigit()


# -- scenes --------------------------------------------------------------------------------------


async def test_scene_list_get_delete(client: httpx.AsyncClient, org: Org, project: dict[str, Any]) -> None:
    first = await new_scene(client, org, project["id"], name="Lobby")
    second = await new_scene(client, org, project["id"], name="Auditorium")
    assert set(first) == {"id", "name", "createdAt", "updatedAt", "thumbnailUrl", "sceneModificationUrl"}
    listing = (await client.get("/api/scenes", params={"projectId": project["id"]}, headers=key(org))).json()
    assert listing["total"] == 2 and listing["skip"] == 0 and listing["take"] == 10
    assert [s["id"] for s in listing["items"]] == [second["id"], first["id"]]
    window = (
        await client.get(
            "/api/scenes", params={"projectId": project["id"], "take": 1, "skip": 1}, headers=key(org)
        )
    ).json()
    assert [s["id"] for s in window["items"]] == [first["id"]] and window["take"] == 1
    searched = (
        await client.get("/api/scenes", params={"projectId": project["id"], "name": "audi"}, headers=key(org))
    ).json()
    assert [s["id"] for s in searched["items"]] == [second["id"]]
    by_creator = (
        await client.get(
            "/api/scenes", params={"projectId": project["id"], "creator": "Admin"}, headers=key(org)
        )
    ).json()
    assert by_creator["total"] == 2
    nobody = (
        await client.get(
            "/api/scenes", params={"projectId": project["id"], "creator": "ann"}, headers=key(org)
        )
    ).json()
    assert nobody["total"] == 0

    deleted = await client.delete(f"/api/scenes/{first['id']}", headers=key(org))
    assert deleted.status_code == 200 and deleted.content == b""
    assert_error(await client.get(f"/api/scenes/{first['id']}", headers=key(org)), 404)


async def test_scene_validation_and_isolation(
    client: httpx.AsyncClient, org: Org, project: dict[str, Any]
) -> None:
    assert_error(await client.get("/api/scenes", headers=key(org)), 400)
    assert_error(
        await client.get("/api/scenes", params={"projectId": project["id"], "take": "x"}, headers=key(org)),
        400,
    )
    assert_error(
        await client.get("/api/scenes", params={"projectId": project["id"], "skip": -1}, headers=key(org)),
        400,
    )
    assert_error(await client.get("/api/scenes/get-creation-url", headers=key(org)), 400)
    assert_error(
        await client.get(
            "/api/scenes/get-creation-url",
            params={"projectId": project["id"], "callback": "ftp://x"},
            headers=key(org),
        ),
        400,
    )
    scene = await new_scene(client, org, project["id"])
    other = await new_org(client)
    assert_error(await client.get(f"/api/scenes/{scene['id']}", headers=key(other)), 404)
    assert_error(await client.delete(f"/api/scenes/{scene['id']}", headers=key(other)), 404)
    assert_error(
        await client.get("/api/scenes", params={"projectId": project["id"]}, headers=key(other)), 404
    )


async def test_creation_url_carries_creator_and_callback(
    client: httpx.AsyncClient, org: Org, project: dict[str, Any]
) -> None:
    params = {"projectId": project["id"], "creator": "ann", "callback": "https://app.example.com/hook"}
    url = (await client.get("/api/scenes/get-creation-url", params=params, headers=key(org))).json()[
        "sceneCreationUrl"
    ]
    assert url.startswith("http://conclave.test/scenes/new?token=")
    token = parse_qs(urlsplit(url).query)["token"][0]
    done = await client.post("/scenes/new", data={"token": token, "name": unique("mine")})
    assert done.status_code == 201
    assert "https://app.example.com/hook" in done.text and "sceneId" in done.text
    mine = (
        await client.get(
            "/api/scenes", params={"projectId": project["id"], "creator": "ann"}, headers=key(org)
        )
    ).json()
    assert mine["total"] == 1


async def test_scene_in_use_cannot_be_deleted(
    client: httpx.AsyncClient, org: Org, project: dict[str, Any], scene: dict[str, Any]
) -> None:
    room = await make_room(client, org, project, scene)
    assert_error(await client.delete(f"/api/scenes/{scene['id']}", headers=key(org)), 409)
    await client.delete(f"/api/rooms/{room['id']}", headers=key(org))
    assert (await client.delete(f"/api/scenes/{scene['id']}", headers=key(org))).status_code == 200


# -- rooms ---------------------------------------------------------------------------------------


async def test_create_room_shape_and_urls(
    client: httpx.AsyncClient, app: FastAPI, org: Org, project: dict[str, Any], scene: dict[str, Any]
) -> None:
    room = await make_room(client, org, project, scene, size=10)
    assert set(room) == {
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
    assert room["size"] == 10 and room["tags"] == [] and room["sceneId"] == scene["id"]
    assert room["returnUrl"] == "https://www.google.com/"
    assert room["thumbnailUrl"] == "https://cdn.example.com/t.jpg"
    urls = room["roomUrl"]
    assert token_of(urls["public"]["host"])["role"] == "moderator"
    assert token_of(urls["public"]["guest"])["role"] == "attendee"
    assert token_of(urls["private"]["host"])["role"] == "moderator"
    assert token_of(urls["private"]["guest"])["role"] == "attendee"
    assert urls["public"]["host"].startswith("http://conclave.test/meet/")

    again = (await client.get(f"/api/rooms/{room['id']}", headers=key(org))).json()
    assert again["roomUrl"]["public"] == urls["public"]
    assert again["roomUrl"]["private"]["host"] != urls["private"]["host"]
    assert again["roomUrl"]["private"]["guest"] != urls["private"]["guest"]

    from conclave.rooms.models import Room

    async with app.state.sessionmaker() as session:
        row = await session.get(Room, room["id"])
        assert row is not None
        grant = await app.state.verifier.verify(
            session, parse_qs(urlsplit(again["roomUrl"]["private"]["host"]).query)["token"][0], row
        )
    assert grant.role == "moderator"


async def test_private_urls_carry_user_avatar_and_payload(
    client: httpx.AsyncClient, org: Org, project: dict[str, Any], scene: dict[str, Any]
) -> None:
    room = await make_room(client, org, project, scene)
    params = {"userId": "user-7", "avatarUrl": "https://cdn.example.com/a.glb", "linkPayload": "seat=4"}
    shown = (await client.get(f"/api/rooms/{room['id']}", params=params, headers=key(org))).json()
    claims = token_of(shown["roomUrl"]["private"]["guest"])
    assert claims["ud"] == "user-7" and claims["avatar"] == "https://cdn.example.com/a.glb"
    assert parse_qs(urlsplit(shown["roomUrl"]["private"]["guest"]).query)["hubsParam"] == ["seat=4"]
    bad = await client.get(f"/api/rooms/{room['id']}", params={"avatarUrl": "not a url"}, headers=key(org))
    assert_error(bad, 400)


@pytest.mark.parametrize(
    "change",
    [
        {"projectId": None},
        {"sceneId": None},
        {"name": None},
        {"returnUrl": None},
        {"returnUrl": "not-a-url"},
        {"size": 0},
        {"size": "10"},
        {"extra": True},
    ],
)
async def test_create_room_validation(
    client: httpx.AsyncClient,
    org: Org,
    project: dict[str, Any],
    scene: dict[str, Any],
    change: dict[str, Any],
) -> None:
    body = {
        "projectId": project["id"],
        "sceneId": scene["id"],
        "name": "r",
        "returnUrl": "https://x.example/",
        **change,
    }
    body = {k: v for k, v in body.items() if v is not None}
    assert_error(await client.post("/api/rooms", json=body, headers=key(org)), 400)


async def test_create_room_unknown_scene_or_project(
    client: httpx.AsyncClient, org: Org, project: dict[str, Any], scene: dict[str, Any]
) -> None:
    base = {"name": "r", "returnUrl": "https://x.example/"}
    other_project = await new_project(client, org)
    foreign_scene = await new_scene(client, org, other_project["id"])
    for project_id, scene_id in (
        (project["id"], new_id()),
        (project["id"], foreign_scene["id"]),
        (new_id(), scene["id"]),
    ):
        response = await client.post(
            "/api/rooms", json={**base, "projectId": project_id, "sceneId": scene_id}, headers=key(org)
        )
        assert_error(response, 404)


async def test_room_list_update_delete(
    client: httpx.AsyncClient, org: Org, project: dict[str, Any], scene: dict[str, Any]
) -> None:
    second_scene = await new_scene(client, org, project["id"])
    first = await make_room(client, org, project, scene, name="Alpha hall")
    second = await make_room(client, org, project, second_scene, name="Beta hall")
    by_project = (
        await client.get("/api/rooms", params={"projectId": project["id"]}, headers=key(org))
    ).json()
    assert by_project["total"] == 2 and [r["id"] for r in by_project["items"]] == [second["id"], first["id"]]
    by_scene = (await client.get("/api/rooms", params={"sceneId": scene["id"]}, headers=key(org))).json()
    assert [r["id"] for r in by_scene["items"]] == [first["id"]]
    by_name = (
        await client.get("/api/rooms", params={"projectId": project["id"], "name": "beta"}, headers=key(org))
    ).json()
    assert [r["id"] for r in by_name["items"]] == [second["id"]]
    paged = (
        await client.get(
            "/api/rooms", params={"projectId": project["id"], "take": 1, "skip": 1}, headers=key(org)
        )
    ).json()
    assert [r["id"] for r in paged["items"]] == [first["id"]] and paged["take"] == 1 and paged["skip"] == 1
    assert_error(await client.get("/api/rooms", headers=key(org)), 400)
    other_project = await new_project(client, org)
    assert_error(
        await client.get(
            "/api/rooms", params={"projectId": other_project["id"], "sceneId": scene["id"]}, headers=key(org)
        ),
        404,
    )

    patched = await client.patch(
        f"/api/rooms/{first['id']}",
        json={"name": "Gamma", "size": 5, "returnUrl": "https://b.example/"},
        headers=key(org),
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["size"], patched.json()["returnUrl"]) == (
        "Gamma",
        5,
        "https://b.example/",
    )
    for bad in ({"size": 0}, {"name": ""}, {"name": None}, {"sceneId": scene["id"]}):
        assert_error(await client.patch(f"/api/rooms/{first['id']}", json=bad, headers=key(org)), 400)

    removed = await client.delete(f"/api/rooms/{first['id']}", headers=key(org))
    assert removed.status_code == 200 and removed.content == b""
    for method in ("GET", "PATCH", "DELETE"):
        assert_error(
            await client.request(method, f"/api/rooms/{first['id']}", json={}, headers=key(org)), 404
        )


async def test_rooms_of_other_organizations_are_not_found(
    client: httpx.AsyncClient, org: Org, project: dict[str, Any], scene: dict[str, Any]
) -> None:
    room = await make_room(client, org, project, scene)
    other = await new_org(client)
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/logs")):
        assert_error(
            await client.request(method, f"/api/rooms/{room['id']}{path}", json={}, headers=key(other)), 404
        )
    assert_error(await client.get("/api/rooms", params={"projectId": project["id"]}, headers=key(other)), 404)


async def test_room_logs_come_from_the_event_log(
    client: httpx.AsyncClient, app: FastAPI, org: Org, project: dict[str, Any], scene: dict[str, Any]
) -> None:
    room = await make_room(client, org, project, scene)
    assert (await client.get(f"/api/rooms/{room['id']}/logs", headers=key(org))).json() == []
    session_id = new_id()
    async with app.state.sessionmaker() as session:
        for kind, minute in (("participant.joined", 1), ("participant.left", 2)):
            session.add(
                RoomEvent(
                    id=new_id(),
                    project_id=project["id"],
                    room_id=room["id"],
                    session_id=session_id,
                    type=kind,
                    data={"participant_id": "p1", "external_id": "user-7", "role": "attendee"},
                    created_at=datetime(2024, 11, 29, 8, minute, tzinfo=UTC),
                )
            )
        await session.commit()
    logs = (await client.get(f"/api/rooms/{room['id']}/logs", headers=key(org))).json()
    reticulum = (
        await client.get(f"/api/projects/{project['id']}/getIdFromUserId/user-7", headers=key(org))
    ).json()["reticulumId"]
    assert [(line["action"], line["id"]) for line in logs] == [("hubs join", 1), ("hubs exit", 2)]
    assert logs[0] == {
        "code": "room-join",
        "roomId": room["id"],
        "sessionId": session_id,
        "reticulumId": reticulum,
        "logTime": "2024-11-29T08:01:00.000Z",
        "action": "hubs join",
        "ip": None,
        "userAgent": None,
        "device": "unknown",
        "id": 1,
    }

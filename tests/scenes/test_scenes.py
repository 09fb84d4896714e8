"""Native scenes API, the scene editor page, and rooms' scene_id rule."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.factories import ProjectKeys, create_project, create_room, unique


@pytest.fixture
async def project(client: httpx.AsyncClient) -> ProjectKeys:
    return await create_project(client)


async def make_scene(client: httpx.AsyncClient, project: ProjectKeys, **fields: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/scenes", json={"name": unique("scene"), **fields}, headers=project.headers
    )
    assert response.status_code == 200, response.text
    scene: dict[str, Any] = response.json()
    return scene


def error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_crud(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    scene = await make_scene(
        client,
        project,
        description="Main hall",
        thumbnail_url="https://cdn.example.com/t.jpg",
        layout="speaker",
        background_color="#102030",
        background_image_url="https://cdn.example.com/bg.jpg",
        settings={"stage": True},
    )
    assert scene["layout"] == "speaker" and scene["settings"] == {"stage": True} and scene["creator"] is None
    assert scene["created_at"].endswith("Z")
    fetched = (await client.get(f"/api/v1/scenes/{scene['id']}", headers=project.headers)).json()
    assert fetched == scene
    patched = await client.patch(
        f"/api/v1/scenes/{scene['id']}",
        json={"name": "Renamed", "thumbnail_url": None},
        headers=project.headers,
    )
    assert patched.status_code == 200
    assert patched.json()["name"] == "Renamed" and patched.json()["thumbnail_url"] is None
    assert patched.json()["layout"] == "speaker"
    assert (await client.delete(f"/api/v1/scenes/{scene['id']}", headers=project.headers)).status_code == 204
    error(await client.get(f"/api/v1/scenes/{scene['id']}", headers=project.headers), 404, "scene_not_found")


async def test_defaults(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    scene = await make_scene(client, project)
    assert scene["layout"] == "grid" and scene["settings"] == {} and scene["thumbnail_url"] is None


async def test_pagination(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    ids = [(await make_scene(client, project))["id"] for _ in range(3)]
    page = (await client.get("/api/v1/scenes", headers=project.headers)).json()
    assert page["total_count"] == 3 and [s["id"] for s in page["data"]] == ids[::-1]
    asc = (
        await client.get("/api/v1/scenes", params={"order": "asc", "limit": 2}, headers=project.headers)
    ).json()
    assert [s["id"] for s in asc["data"]] == ids[:2]
    after = (
        await client.get("/api/v1/scenes", params={"order": "asc", "after": ids[0]}, headers=project.headers)
    ).json()
    assert [s["id"] for s in after["data"]] == ids[1:]
    offset = (await client.get("/api/v1/scenes", params={"offset": 2}, headers=project.headers)).json()
    assert [s["id"] for s in offset["data"]] == [ids[0]]
    error(
        await client.get("/api/v1/scenes", params={"after": "nope"}, headers=project.headers),
        404,
        "scene_not_found",
    )
    error(
        await client.get("/api/v1/scenes", params={"limit": 0}, headers=project.headers),
        422,
        "validation_error",
    )


async def test_auth_and_isolation(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    for method, path in (("GET", "/api/v1/scenes"), ("POST", "/api/v1/scenes"), ("GET", "/api/v1/scenes/x")):
        assert (await client.request(method, path)).status_code == 401
    scene = await make_scene(client, project)
    other = await create_project(client)
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(
            method, f"/api/v1/scenes/{scene['id']}", json={}, headers=other.headers
        )
        error(response, 404, "scene_not_found")
    assert (await client.get("/api/v1/scenes", headers=other.headers)).json()["total_count"] == 0


async def test_conflicts(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    scene = await make_scene(client, project, name="Lobby")
    error(
        await client.post("/api/v1/scenes", json={"name": "Lobby"}, headers=project.headers),
        409,
        "scene_name_taken",
    )
    other = await make_scene(client, project)
    response = await client.patch(
        f"/api/v1/scenes/{other['id']}", json={"name": "Lobby"}, headers=project.headers
    )
    error(response, 409, "scene_name_taken")
    room = await create_room(client, project, scene_id=scene["id"])
    error(await client.delete(f"/api/v1/scenes/{scene['id']}", headers=project.headers), 409, "scene_in_use")
    await client.delete(f"/api/v1/rooms/{room['id']}", headers=project.headers)
    assert (await client.delete(f"/api/v1/scenes/{scene['id']}", headers=project.headers)).status_code == 204


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 201},
        {"name": "a", "layout": "mosaic"},
        {"name": "a", "background_color": "red"},
        {"name": "a", "thumbnail_url": "ftp://x"},
        {"name": "a", "settings": []},
        {"name": "a", "layout": None},
        {"name": "a", "unknown": 1},
    ],
)
async def test_validation(client: httpx.AsyncClient, project: ProjectKeys, body: dict[str, Any]) -> None:
    error(await client.post("/api/v1/scenes", json=body, headers=project.headers), 422, "validation_error")


async def test_rooms_must_reference_a_scene_of_the_project(
    client: httpx.AsyncClient, project: ProjectKeys
) -> None:
    other = await create_project(client)
    foreign = await make_scene(client, other)
    for scene_id in ("not-a-scene", foreign["id"]):
        response = await client.post("/api/v1/rooms", json={"scene_id": scene_id}, headers=project.headers)
        error(response, 422, "scene_not_found")
    scene = await make_scene(client, project)
    room = await create_room(client, project, scene_id=scene["id"])
    assert room["scene_id"] == scene["id"]
    bad = await client.patch(
        f"/api/v1/rooms/{room['id']}", json={"scene_id": foreign["id"]}, headers=project.headers
    )
    error(bad, 422, "scene_not_found")
    cleared = await client.patch(
        f"/api/v1/rooms/{room['id']}", json={"scene_id": None}, headers=project.headers
    )
    assert cleared.status_code == 200 and cleared.json()["scene_id"] is None


# -- the editor page -----------------------------------------------------------------------------


async def creation_url(client: httpx.AsyncClient, org_secret: str, project_id: str, **params: str) -> str:
    response = await client.get(
        "/api/scenes/get-creation-url",
        params={"projectId": project_id, **params},
        headers={"X-XRCLOUD-API-KEY": org_secret},
    )
    assert response.status_code == 200, response.text
    url: str = response.json()["sceneCreationUrl"]
    return url.removeprefix("http://conclave.test")


async def test_editor_page_creates_and_edits(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    from tests.factories import create_org

    org = await create_org(client)
    owned = await create_project(client, org)
    page = await client.get(await creation_url(client, org.secret, owned.id))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<form" in page.text
    assert "<link" not in page.text and 'src="' not in page.text  # no external assets
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None
    form = {
        "token": token.group(1),
        "name": "Hall",
        "layout": "spotlight",
        "background_color": "#abcdef",
        "description": "",
    }
    created = await client.post("/scenes/new", data=form)
    assert created.status_code == 201, created.text
    scene_id = re.search(r'id="scene-id">([^<]+)<', created.text)
    assert scene_id is not None
    scene = (await client.get(f"/api/v1/scenes/{scene_id.group(1)}", headers=owned.headers)).json()
    assert (scene["name"], scene["layout"], scene["background_color"], scene["creator"]) == (
        "Hall",
        "spotlight",
        "#abcdef",
        "Admin",
    )
    assert scene["description"] is None

    edit_url = (
        (await client.get(f"/api/scenes/{scene['id']}", headers={"X-XRCLOUD-API-KEY": org.secret}))
        .json()["sceneModificationUrl"]
        .removeprefix("http://conclave.test")
    )
    edit_page = await client.get(edit_url)
    assert edit_page.status_code == 200 and 'value="Hall"' in edit_page.text
    edit_token = re.search(r'name="token" value="([^"]+)"', edit_page.text)
    assert edit_token is not None
    saved = await client.post(
        f"/scenes/{scene['id']}/edit",
        data={"token": edit_token.group(1), "name": "Hall 2", "layout": "grid", "background_color": ""},
    )
    assert saved.status_code == 200, saved.text
    after = (await client.get(f"/api/v1/scenes/{scene['id']}", headers=owned.headers)).json()
    assert (after["name"], after["layout"], after["background_color"]) == ("Hall 2", "grid", None)

    # A creation token cannot edit, an edit token cannot edit another scene, and neither creates twice
    # under one name.
    other = await make_scene(client, owned)
    wrong = await client.post(f"/scenes/{other['id']}/edit", data={"token": edit_token.group(1), "name": "x"})
    assert wrong.status_code == 401 and "text/html" in wrong.headers["content-type"]
    assert (
        await client.get(f"/scenes/{scene['id']}/edit", params={"token": token.group(1)})
    ).status_code == 401
    duplicate = await client.post("/scenes/new", data={**form, "name": "Hall 2"})
    assert duplicate.status_code == 409
    invalid = await client.post("/scenes/new", data={**form, "name": "Z", "background_color": "blue"})
    assert invalid.status_code == 422 and "background_color" in invalid.text


async def test_editor_page_refuses_bad_tokens(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    assert (await client.get("/scenes/new")).status_code == 400
    assert (await client.get("/scenes/new", params={"token": "garbage"})).status_code == 401
    assert (await client.post("/scenes/new", data={"name": "x"})).status_code == 401
    room = await create_room(client, project)
    token = (await client.post(f"/api/v1/rooms/{room['id']}/token", json={}, headers=project.headers)).json()[
        "token"
    ]
    assert (await client.get("/scenes/new", params={"token": token})).status_code == 401


async def test_editor_links_expire(client: httpx.AsyncClient, app: Any, project: ProjectKeys) -> None:
    import jwt

    from conclave.scenes.service import EDITOR_AUDIENCE

    async with app.state.sessionmaker() as session:
        keys = await app.state.tenancy.signing_keys(session, project.id)
    expired = jwt.encode(
        {"purpose": "scene.create", "project_id": project.id, "aud": EDITOR_AUDIENCE, "exp": 1},
        keys[0].secret,
        algorithm="HS256",
        headers={"kid": keys[0].key_id},
    )
    response = await client.get("/scenes/new", params={"token": expired})
    assert response.status_code == 401 and "expired" in response.text

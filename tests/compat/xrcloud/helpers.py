"""Shared XRCLOUD test helpers: an organization key, a project, a scene made through the editor page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.factories import Org, create_org, unique

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) + b"\r\n\x00end"
ICO = b"\x00\x00\x01\x00\x01\x00" + b"\x10\x10\x00\x00\x01\x00\x20\x00" + b"\x00" * 64


def key(org: Org) -> dict[str, str]:
    return {"X-XRCLOUD-API-KEY": org.secret}


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"statusCode", "method", "url", "body", "message"}
    assert body["statusCode"] == status
    assert body["method"] == response.request.method
    assert body["url"].startswith(response.request.url.path)
    return body


async def new_org(client: httpx.AsyncClient) -> Org:
    return await create_org(client)


async def new_project(client: httpx.AsyncClient, org: Org, **fields: str) -> dict[str, Any]:
    response = await client.post(
        "/api/projects", data={"name": unique("xr"), **fields}, files={"x": ("", b"")}, headers=key(org)
    )
    assert response.status_code == 201, response.text
    project: dict[str, Any] = response.json()
    return project


async def new_scene(client: httpx.AsyncClient, org: Org, project_id: str, **form: str) -> dict[str, Any]:
    """Create a scene the documented way: get the creation URL, open it, submit its form."""
    url = (
        await client.get("/api/scenes/get-creation-url", params={"projectId": project_id}, headers=key(org))
    ).json()["sceneCreationUrl"]
    page = await client.get(url)
    assert page.status_code == 200, page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None
    submitted = await client.post(
        "/scenes/new", data={"token": token.group(1), "name": unique("scene"), "layout": "grid", **form}
    )
    assert submitted.status_code == 201, submitted.text
    scene_id = re.search(r'id="scene-id">([^<]+)<', submitted.text)
    assert scene_id is not None
    scene: dict[str, Any] = (await client.get(f"/api/scenes/{scene_id.group(1)}", headers=key(org))).json()
    return scene


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")

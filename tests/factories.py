"""Small async factories that go through the real API, so tests exercise real paths."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN


@dataclass(frozen=True)
class Org:
    id: str
    api_key: str
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


@dataclass(frozen=True)
class ProjectKeys:
    id: str
    organization_id: str
    api_key: str
    secret_key: str
    app_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret_key}"}

    @property
    def basic_headers(self) -> dict[str, str]:
        encoded = base64.b64encode(f"{self.id}:{self.secret_key}".encode()).decode()
        return {"Authorization": f"Basic {encoded}"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def create_org(client: httpx.AsyncClient, **fields: Any) -> Org:
    body = {"name": unique("org"), **fields}
    response = await client.post(
        "/api/v1/admin/organizations", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 200, response.text
    data = response.json()
    return Org(id=data["id"], api_key=data["api_key"], secret=data["secret"])


async def create_project(client: httpx.AsyncClient, org: Org | None = None, **fields: Any) -> ProjectKeys:
    org = org or await create_org(client)
    response = await client.post(
        "/api/v1/projects", json={"name": unique("project"), **fields}, headers=org.headers
    )
    assert response.status_code == 200, response.text
    data = response.json()
    return ProjectKeys(
        id=data["id"],
        organization_id=data["organization_id"],
        api_key=data["api_key"],
        secret_key=data["secret_key"],
        app_id=data["app_id"],
    )


async def create_room(client: httpx.AsyncClient, project: ProjectKeys, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/rooms", json=fields, headers=project.headers)
    assert response.status_code == 200, response.text
    room: dict[str, Any] = response.json()
    return room

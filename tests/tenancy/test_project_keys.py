"""``TenancyService.newest_project_keys``: each project's newest usable key, with its secret."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from conclave.tenancy.service import TenancyService
from tests.factories import create_org, create_project


async def test_newest_usable_key_per_project(client: httpx.AsyncClient, app: FastAPI) -> None:
    org = await create_org(client)
    first = await create_project(client, org)
    second = await create_project(client, org)
    rotated = await client.post(
        f"/api/v1/projects/{first.id}/credentials/{first.api_key}/rotate", json={}, headers=org.headers
    )
    assert rotated.status_code == 200, rotated.text
    tenancy: TenancyService = app.state.tenancy
    async with app.state.sessionmaker() as session:
        keys = await tenancy.newest_project_keys(session, [first.id, second.id])
        assert await tenancy.newest_project_keys(session, []) == {}
    assert keys[first.id].key_id == rotated.json()["key_id"]
    assert keys[first.id].secret == rotated.json()["secret"]
    assert (keys[second.id].key_id, keys[second.id].secret) == (second.api_key, second.secret_key)

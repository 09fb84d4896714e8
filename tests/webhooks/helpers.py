"""Small helpers shared by the webhook tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.factories import ProjectKeys


async def create_webhook(
    client: httpx.AsyncClient, project: ProjectKeys, url: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/webhooks", json={"endpoint": url, **fields}, headers=project.headers
    )
    assert response.status_code == 200, response.text
    webhook: dict[str, Any] = response.json()
    return webhook


async def deliveries(
    client: httpx.AsyncClient, project: ProjectKeys, webhook_id: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/webhooks/{webhook_id}/deliveries", params={"order": "asc"}, headers=project.headers
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    """Poll an API-visible condition; every wait in these tests is bounded."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)

"""Sign requests exactly like the collection's pre-request script, then send them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx


def script_signature(secret: str, message: str) -> str:
    """``CryptoJS.HmacSHA256(rawMessage.replace(/\\r\\n/g, '\\n').trim(), secret)`` in Base64."""
    normalised = message.replace("\r\n", "\n").strip()
    digest = hmac.new(secret.encode(), normalised.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class QriibClient:
    """One credential (project or organization) talking to the Qriib surface."""

    def __init__(self, client: httpx.AsyncClient, key: str, secret: str) -> None:
        self.client = client
        self.key = key
        self.secret = secret

    def headers(self, message: str, **extra: str) -> dict[str, str]:
        return {"key": self.key, "hash-signature": script_signature(self.secret, message), **extra}

    async def get(self, path_with_query: str, **extra: str) -> httpx.Response:
        """GET/DELETE sign ``getPathWithQuery()``: the path from ``/api/…`` plus ``?query``."""
        return await self.client.get(path_with_query, headers=self.headers(path_with_query, **extra))

    async def send(self, method: str, path: str, body: Any, **extra: str) -> httpx.Response:
        """POST/PUT sign the raw body text; ``body`` may be a str to send bytes exactly as given."""
        raw = body if isinstance(body, str) else json.dumps(body)
        headers = {"Content-Type": "application/json", **self.headers(raw, **extra)}
        return await self.client.request(method, path, content=raw.encode(), headers=headers)

    async def post(self, path: str, body: Any, **extra: str) -> httpx.Response:
        return await self.send("POST", path, body, **extra)

    async def put(self, path: str, body: Any, **extra: str) -> httpx.Response:
        return await self.send("PUT", path, body, **extra)


def room_body(project_id: str, client_room_id: str, **overrides: Any) -> dict[str, Any]:
    """The collection's quick-room body (numbers as strings, as it sends them)."""
    body: dict[str, Any] = {
        "project_id": project_id,
        "name": "hisham",
        "client_room_id": client_room_id,
        "moderator_id": "hisham",
        "max_participants": "20",
        "empty_timeout": "300",
        "metadata": {"room_title": "Test room", "welcome_message": "Welcome to room"},
    }
    body.update(overrides)
    return body

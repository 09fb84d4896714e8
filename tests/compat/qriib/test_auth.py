"""Authentication on every Qriib route: key, signature, credential level, project status."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.compat.qriib.conftest import Tenant
from tests.compat.qriib.helpers import QriibClient, room_body, script_signature
from tests.factories import unique

INVALID_KEY = {"error": "Invalid or missing api_key"}
INVALID_SIGNATURE = {"error": "Invalid signature"}

# (method, path template, body template or None, credential level)
Endpoint = tuple[str, str, Callable[[Tenant, str], Any] | None, str]
ROOM = "project"
ORG = "organization"


def _quick(tenant: Tenant, room_id: str) -> Any:
    return room_body(tenant.project.id, unique("client"))


def _scheduled(tenant: Tenant, room_id: str) -> Any:
    return {**room_body(tenant.project.id, unique("client")), "start_at": "2099-12-31T06:16"}


ENDPOINTS: list[Endpoint] = [
    ("POST", "/api/v4/rooms/create_quick_audio_room", _quick, ROOM),
    ("POST", "/api/v3/rooms/create_quick_audio_room", _quick, ROOM),
    ("POST", "/api/v4/rooms/create_quick_video_room", _quick, ROOM),
    ("POST", "/api/v4/rooms/create_schedule_audio_room", _scheduled, ROOM),
    ("POST", "/api/v4/rooms/create_schedule_video_room", _scheduled, ROOM),
    ("POST", "/api/v4/rooms/start_schedule_room", lambda t, r: {"room_id": r}, ROOM),
    ("POST", "/api/v4/rooms/fetch_past_rooms", lambda t, r: {"project_id": t.project.id}, ROOM),
    ("POST", "/api/v3/rooms/fetch_past_rooms", lambda t, r: {"project_id": t.project.id}, ROOM),
    ("GET", "/api/v4/rooms/get_active_room_info?room_id={room}", None, ROOM),
    ("GET", "/api/v3/rooms/get_active_room_info?room_id={room}", None, ROOM),
    ("GET", "/api/v4/rooms/room_status?room_id={room}", None, ROOM),
    ("GET", "/api/v4/rooms/get_active_rooms_info", None, ROOM),
    ("GET", "/api/v4/webhook/get_room_events/{room}", None, ROOM),
    ("POST", "/api/v4/rooms/join_room", lambda t, r: {"room_id": r, "user_info": {"name": "A"}}, ROOM),
    ("POST", "/api/v4/rooms/create_invitation_link", lambda t, r: {"room_id": r, "role": "viewer"}, ROOM),
    ("POST", "/api/v4/rooms/end_room", lambda t, r: {"room_id": r}, ROOM),
    ("GET", "/api/v4/projects/get_project?project_id={project}", None, ORG),
    ("GET", "/api/v3/projects/get_project?project_id={project}", None, ORG),
    ("GET", "/api/v4/projects/get_projects?organization_id={org}", None, ORG),
    (
        "POST",
        "/api/v4/projects/create_project",
        lambda t, r: {"organization_id": t.org.id, "project_name": unique("p")},
        ORG,
    ),
    (
        "PUT",
        "/api/v4/projects/update_project/{project}",
        lambda t, r: {
            "webhook_url": "https://example.com/h",
            "default_lock_settings": {"lock_microphone": True},
        },
        ORG,
    ),
    (
        "PUT",
        "/api/v4/projects/update_project_status?project_id={project}",
        lambda t, r: {"status": "active"},
        ORG,
    ),
]
IDS = [f"{method} {path.split('?')[0]}" for method, path, _, _ in ENDPOINTS]


async def _scheduled_room(tenant: Tenant) -> str:
    response = await tenant.as_project.post(
        "/api/v4/rooms/create_schedule_video_room", _scheduled(tenant, "")
    )
    assert response.status_code == 200, response.text
    room_id: str = response.json()["room_id"]
    return room_id


def _request(endpoint: Endpoint, tenant: Tenant, room_id: str) -> tuple[str, str, str | None]:
    method, template, make_body, _ = endpoint
    path = template.format(room=room_id, project=tenant.project.id, org=tenant.org.id)
    body = json.dumps(make_body(tenant, room_id)) if make_body else None
    return method, path, body


async def _send(
    client: httpx.AsyncClient, method: str, path: str, body: str | None, headers: dict[str, str]
) -> httpx.Response:
    if body is None:
        return await client.request(method, path, headers=headers)
    return await client.request(
        method, path, content=body.encode(), headers={"Content-Type": "application/json", **headers}
    )


def _signer(endpoint: Endpoint, tenant: Tenant) -> QriibClient:
    return tenant.as_org if endpoint[3] == ORG else tenant.as_project


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
async def test_every_route_refuses_bad_credentials(
    client: httpx.AsyncClient, tenant: Tenant, endpoint: Endpoint
) -> None:
    room_id = await _scheduled_room(tenant)
    method, path, body = _request(endpoint, tenant, room_id)
    message = body if body is not None else path
    signer = _signer(endpoint, tenant)
    good = script_signature(signer.secret, message)

    missing_key = await _send(client, method, path, body, {"hash-signature": good})
    assert (missing_key.status_code, missing_key.json()) == (401, INVALID_KEY)

    blank_key = await _send(client, method, path, body, {"key": " ", "hash-signature": good})
    assert (blank_key.status_code, blank_key.json()) == (401, INVALID_KEY)

    unknown = await _send(client, method, path, body, {"key": "nope", "hash-signature": good})
    assert (unknown.status_code, unknown.json()) == (401, INVALID_KEY)

    no_signature = await _send(client, method, path, body, {"key": signer.key})
    assert (no_signature.status_code, no_signature.json()) == (401, INVALID_SIGNATURE)

    wrong_secret = script_signature("not-the-secret", message)
    bad = await _send(client, method, path, body, {"key": signer.key, "hash-signature": wrong_secret})
    assert (bad.status_code, bad.json()) == (401, INVALID_SIGNATURE)

    # The right secret over the wrong message: the body for a GET, the path for a POST/PUT.
    other = path if body is not None else '{"room_id": "x"}'
    wrong_message = script_signature(signer.secret, other)
    swapped = await _send(client, method, path, body, {"key": signer.key, "hash-signature": wrong_message})
    assert (swapped.status_code, swapped.json()) == (401, INVALID_SIGNATURE)

    # The other credential level is not accepted, even correctly signed.
    other_level = tenant.as_project if endpoint[3] == ORG else tenant.as_org
    crossed = await _send(
        client,
        method,
        path,
        body,
        {"key": other_level.key, "hash-signature": script_signature(other_level.secret, message)},
    )
    assert (crossed.status_code, crossed.json()) == (401, INVALID_KEY)

    # And a correct request passes authentication (whatever the route then answers).
    accepted = await _send(client, method, path, body, {"key": signer.key, "hash-signature": good})
    assert accepted.status_code not in (401, 403), accepted.text


async def test_inactive_project_is_refused_until_reactivated(tenant: Tenant) -> None:
    status_path = f"/api/v4/projects/update_project_status?project_id={tenant.project.id}"
    assert (await tenant.as_org.put(status_path, {"status": "inactive"})).status_code == 200
    refused = await tenant.as_project.get("/api/v4/rooms/get_active_rooms_info")
    assert (refused.status_code, refused.json()) == (403, {"error": "Project is not active"})
    created = await tenant.as_project.post(
        "/api/v4/rooms/create_quick_video_room", room_body(tenant.project.id, "while-inactive")
    )
    assert created.status_code == 403
    assert (await tenant.as_org.put(status_path, {"status": "active"})).status_code == 200
    listed = await tenant.as_project.get("/api/v4/rooms/get_active_rooms_info")
    assert listed.status_code == 200 and listed.json() == {"rooms": []}


async def test_api_key_and_secret_key_headers_of_the_description(
    tenant: Tenant, client: httpx.AsyncClient
) -> None:
    path = "/api/v4/rooms/get_active_rooms_info"
    signature = script_signature(tenant.project.secret_key, path)
    with_api_key = await client.get(
        path, headers={"api-key": tenant.project.api_key, "hash-signature": signature}
    )
    assert with_api_key.status_code == 200
    with_secret = await tenant.as_project.get(path, **{"secret-key": tenant.project.secret_key})
    assert with_secret.status_code == 200
    wrong_secret = await tenant.as_project.get(path, **{"secret-key": "wrong"})
    assert (wrong_secret.status_code, wrong_secret.json()) == (401, INVALID_SIGNATURE)


async def test_pretty_printed_crlf_body_signed_as_the_script_does(
    tenant: Tenant, client: httpx.AsyncClient
) -> None:
    # The collection's own body text: CRLF line ends; the script signs it with CRLF -> LF, trimmed.
    raw = "\r\n".join(
        [
            "{",
            f'  "project_id": "{tenant.project.id}",',
            '  "name":"ali",',
            '  "client_room_id":"ddds0a1cvf[xpwc[b1",',
            '  "moderator_id":"ali",',
            '  "max_participants":"20",',
            '  "empty_timeout":"1000",',
            '  "metadata": {',
            '    "room_title": "yarab room",',
            '    "welcome_message": "Welcome"',
            "  }",
            "}",
            "",
        ]
    )
    signature = script_signature(tenant.project.secret_key, raw)
    response = await client.post(
        "/api/v3/rooms/create_quick_audio_room",
        content=raw.encode(),
        headers={
            "key": tenant.project.api_key,
            "hash-signature": signature,
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 201, response.text
    # Signing the raw bytes without the normalisation is not what the script does: refused.
    unnormalised = base64.b64encode(
        hmac.new(
            tenant.project.secret_key.encode(), raw.replace("ddds0", "eeee0").encode(), hashlib.sha256
        ).digest()
    ).decode()
    refused = await client.post(
        "/api/v4/rooms/create_quick_audio_room",
        content=raw.replace("ddds0", "eeee0").encode(),
        headers={"key": tenant.project.api_key, "hash-signature": unnormalised},
    )
    assert (refused.status_code, refused.json()) == (401, INVALID_SIGNATURE)


async def test_percent_encoded_query_verifies_against_the_unencoded_form(
    tenant: Tenant, client: httpx.AsyncClient
) -> None:
    # Postman signs getPathWithQuery() before it percent-encodes the URL for the wire.
    signed = "/api/v4/rooms/room_status?room_id=no such room"
    sent = "/api/v4/rooms/room_status?room_id=no%20such%20room"
    headers = {
        "key": tenant.project.api_key,
        "hash-signature": script_signature(tenant.project.secret_key, signed),
    }
    response = await client.get(sent, headers=headers)
    assert (response.status_code, response.json()) == (404, {"error": "Room not found"})


async def test_malformed_json_is_checked_after_the_signature(
    tenant: Tenant, client: httpx.AsyncClient
) -> None:
    raw = '{"project_id": "x", ////}'
    unsigned = await client.post(
        "/api/v4/rooms/create_quick_video_room", content=raw.encode(), headers={"key": tenant.project.api_key}
    )
    assert (unsigned.status_code, unsigned.json()) == (401, INVALID_SIGNATURE)
    signed = await tenant.as_project.post("/api/v4/rooms/create_quick_video_room", raw)
    assert signed.status_code == 400
    assert signed.json() == {
        "error": "Bad Request",
        "message": "The browser (or proxy) sent a request that this server could not understand.",
    }


async def test_refused_requests_change_nothing(tenant: Tenant, client: httpx.AsyncClient) -> None:
    body = json.dumps(room_body(tenant.project.id, "refused-room"))
    bad = {"key": tenant.project.api_key, "hash-signature": script_signature("wrong", body)}
    assert (
        await client.post("/api/v4/rooms/create_quick_video_room", content=body.encode(), headers=bad)
    ).status_code == 401
    rooms = await client.get("/api/v1/rooms", headers=tenant.project.headers)
    assert rooms.json()["total_count"] == 0

    room_id = await _scheduled_room(tenant)
    end = json.dumps({"room_id": room_id})
    bad_end = {"key": tenant.project.api_key, "hash-signature": script_signature("wrong", end)}
    assert (
        await client.post("/api/v4/rooms/end_room", content=end.encode(), headers=bad_end)
    ).status_code == 401
    room = await client.get(f"/api/v1/rooms/{room_id}", headers=tenant.project.headers)
    assert room.json()["status"] == "scheduled"

    before = (await client.get(f"/api/v1/projects/{tenant.project.id}", headers=tenant.org.headers)).json()
    update = json.dumps(
        {"webhook_url": "https://evil.example", "default_lock_settings": {"lock_microphone": True}}
    )
    bad_update = {"key": tenant.org.api_key, "hash-signature": script_signature("wrong", update)}
    path = f"/api/v4/projects/update_project/{tenant.project.id}"
    assert (await client.put(path, content=update.encode(), headers=bad_update)).status_code == 401
    status = json.dumps({"status": "inactive"})
    bad_status = {"key": tenant.org.api_key, "hash-signature": script_signature("wrong", status)}
    status_path = f"/api/v4/projects/update_project_status?project_id={tenant.project.id}"
    assert (await client.put(status_path, content=status.encode(), headers=bad_status)).status_code == 401
    after = (await client.get(f"/api/v1/projects/{tenant.project.id}", headers=tenant.org.headers)).json()
    assert after == before

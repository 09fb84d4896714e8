"""Inputs a fuzzer found answered with 500s: each now gets a truthful answer in the surface's format."""

from __future__ import annotations

import httpx

from conclave.webhooks.signing import sign, verify
from tests.factories import create_org, create_project, create_room

HUGE = 10**28  # past any 64-bit integer, which is what the database drivers take


async def test_an_offset_past_any_row_is_an_empty_page(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    h = project.headers
    room = await create_room(client, project)
    library = (await client.post("/api/v1/libraries", json={"name": "L"}, headers=h)).json()
    for path in (
        "/api/v1/rooms",
        "/api/v1/sessions",
        f"/api/v1/rooms/{room['id']}/questions",
        f"/api/v1/libraries/{library['id']}/files",
    ):
        response = await client.get(path, params={"offset": HUGE}, headers=h)
        assert response.status_code == 200, (path, response.text)
        assert response.json()["data"] == [], path
    rooms = (await client.get("/api/v1/rooms", params={"offset": HUGE}, headers=h)).json()
    assert rooms["total_count"] == 1


async def test_signed_links_with_non_ascii_signatures_are_refused(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    for url in (
        "/api/v1/library-files/f1?expires=4102444800&signature=%C3%A9t%C3%A9",
        "/api/v1/recordings/r1/download?expires=4102444800&signature=%C3%A9t%C3%A9",
    ):
        response = await client.get(url, headers=project.headers)
        assert response.status_code == 403, (url, response.text)
        assert response.json()["error"]["code"] in ("invalid_link", "invalid_signature")


async def test_a_non_ascii_admin_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/admin/organizations", headers={"Authorization": "Bearer t\xe9st".encode("latin-1")}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_admin_token"


def test_a_webhook_signature_with_non_ascii_characters_does_not_verify() -> None:
    body = b'{"event": "room.created"}'
    assert verify("secret", "1700000000", body, sign("secret", "1700000000", body), tolerance_seconds=None)
    assert not verify("secret", "1700000000", body, "\u00e9" * 64, tolerance_seconds=None)


NOT_UTF8 = b'{"name": "\xff\xfe"}'


async def test_a_body_that_is_not_utf8_is_a_400_in_each_surfaces_format(client: httpx.AsyncClient) -> None:
    """FastAPI refuses it before the route runs; the Qriib surface reads its bodies itself."""
    project = await create_project(client)
    org = await create_org(client)
    json_type = {"Content-Type": "application/json"}

    native = await client.post("/api/v1/rooms", content=NOT_UTF8, headers=project.headers | json_type)
    assert native.status_code == 400
    assert native.json()["error"]["code"] == "bad_request"

    videsk = await client.post("/vpaas/rooms", content=NOT_UTF8, headers=project.headers | json_type)
    assert videsk.status_code == 400
    assert videsk.json()["className"] == "bad-request"

    xrcloud = await client.post(
        "/api/rooms", content=NOT_UTF8, headers={"X-XRCLOUD-API-KEY": org.secret} | json_type
    )
    assert xrcloud.status_code == 400
    assert xrcloud.json()["statusCode"] == 400 and xrcloud.json()["body"] == {}


async def test_text_the_database_cannot_store_is_a_400_on_every_backend(client: httpx.AsyncClient) -> None:
    """PostgreSQL cannot store U+0000 and no driver can encode a lone surrogate; SQLite would
    keep the first silently. Both are refused alike, wherever the text arrives."""
    project = await create_project(client)
    h = project.headers | {"Content-Type": "application/json"}
    for method, path, body in (
        ("GET", "/api/v1/rooms/ab%00c", None),
        ("GET", "/api/v1/rooms?after=a%00b", None),
        ("GET", "/api/v1/rooms?tag=a%00b", None),
        ("POST", "/api/v1/rooms", b'{"description": "a\\u0000b"}'),
        ("POST", "/api/v1/rooms", b'{"description": "lone \\ud800 surrogate"}'),
        ("POST", "/api/v1/rooms", b'{"tags": ["ok", "\\u0000"]}'),
    ):
        response = await client.request(method, path, content=body, headers=h)
        assert response.status_code == 400, (path, body, response.text)
        assert response.json()["error"]["code"] == "invalid_characters"
    videsk = await client.post("/vpaas/rooms", content=b'{"name": "a\\u0000"}', headers=h)
    assert videsk.status_code == 400 and videsk.json()["className"] == "bad-request"

    # No false alarms: an emoji's surrogate pair, and an escaped backslash before "u0000".
    fine = await client.post(
        "/api/v1/rooms", content=b'{"description": "\\ud83d\\ude00 \\\\u0000"}', headers=h
    )
    assert fine.status_code == 200, fine.text
    assert fine.json()["description"] == "\U0001f600 \\u0000"


async def test_project_limits_beyond_what_is_stored_are_refused(client: httpx.AsyncClient) -> None:
    org = await create_org(client)
    body = {"name": "big", "limits": {"max_api_calls_per_day": 2**34}}
    response = await client.post("/api/v1/projects", json=body, headers=org.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    body["limits"] = {"max_api_calls_per_day": 2**31 - 1}
    assert (await client.post("/api/v1/projects", json=body, headers=org.headers)).status_code == 200

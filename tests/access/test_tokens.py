"""Room tokens: claims checked with PyJWT, jti recorded, and the verifier that admits joins."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from conclave.access.models import IssuedToken
from conclave.access.verifier import TokenRejected, unverified_room_id
from conclave.rooms.models import Room
from tests.factories import ProjectKeys, create_org, create_project, create_room


async def issue(client: httpx.AsyncClient, project: ProjectKeys, room: str, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/rooms/{room}/token", json=body, headers=project.headers)


async def test_token_claims(client: httpx.AsyncClient, app: FastAPI) -> None:
    project = await create_project(client)
    room = await create_room(client, project, friendly_url="claims")
    now = int(time.time())
    body = {
        "ud": "user-123",
        "u": "John Doe",
        "initials": "JD",
        "role": "moderator",
        "avatar": "https://example.com/a.jpg",
        "breakoutId": "breakout-1",
        "nbf": now - 5,
        "exp": now + 600,
    }
    response = await issue(client, project, "claims", **body)
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    assert response.json()["link"] == f"http://conclave.test/meet/claims?token={token}"
    claims = jwt.decode(token, project.secret_key, algorithms=["HS256"])
    for key, value in body.items():
        assert claims[key] == value
    assert claims["room_id"] == room["id"] and claims["project_id"] == project.id and claims["jti"]
    assert jwt.get_unverified_header(token)["kid"] == project.api_key

    async with app.state.sessionmaker() as session:
        recorded = (
            await session.execute(select(IssuedToken).where(IssuedToken.jti == claims["jti"]))
        ).scalar_one()
    assert (recorded.room_id, recorded.user_external_id, recorded.role) == (
        room["id"],
        "user-123",
        "moderator",
    )


async def test_token_defaults_and_errors(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    room = await create_room(client, project, roles=["moderator", "viewer"], default_role="viewer")
    response = await client.post(f"/api/v1/rooms/{room['id']}/token", headers=project.headers)
    claims = jwt.decode(response.json()["token"], project.secret_key, algorithms=["HS256"])
    assert claims["role"] == "viewer"
    assert 24 * 3600 - 60 < claims["exp"] - claims["nbf"] <= 24 * 3600

    now = int(time.time())
    cases = [
        ({"role": "attendee"}, 422, "unknown_role"),  # exists, but not one of this room's roles
        ({"role": "ghost"}, 422, "unknown_role"),
        ({"exp": now - 10}, 422, "token_expired"),
        ({"nbf": now + 100, "exp": now + 50}, 422, "validation_error"),
        ({"u": 42}, 422, "validation_error"),
        ({"admin": True}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        response = await issue(client, project, room["id"], **body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), body
    assert (await issue(client, project, "no-such-room")).status_code == 404


async def _verify(app: FastAPI, token: str, room_id: str) -> Any:
    async with app.state.sessionmaker() as session:
        room = await session.get(Room, room_id)
        assert room is not None
        return await app.state.verifier.verify(session, token, room)


async def test_verifier_admits_and_rejects(client: httpx.AsyncClient, app: FastAPI) -> None:
    org = await create_org(client)
    project = await create_project(client, org)
    room = await create_room(client, project)
    other_room = await create_room(client, project)
    token = (await issue(client, project, room["id"], u="Ann", ud="u1", role="speaker")).json()["token"]
    assert unverified_room_id(token) == room["id"]

    grant = await _verify(app, token, room["id"])
    assert (grant.role, grant.display_name, grant.user_external_id) == ("speaker", "Ann", "u1")
    assert grant.permissions["broadcast"] and not grant.permissions["remove_participants"]

    with pytest.raises(TokenRejected) as wrong_room:
        await _verify(app, token, other_room["id"])
    assert wrong_room.value.code == "token_wrong_room"

    now = int(time.time())
    expired = jwt.encode({"role": "attendee", "exp": now - 60}, project.secret_key, algorithm="HS256")
    early = jwt.encode(
        {"role": "attendee", "nbf": now + 600, "exp": now + 900}, project.secret_key, algorithm="HS256"
    )
    forged = jwt.encode(
        {"role": "moderator", "exp": now + 60}, "not-the-secret-of-this-project-at-all", algorithm="HS256"
    )
    for bad, code in (
        (expired, "token_expired"),
        (early, "token_not_yet_valid"),
        (forged, "token_bad_signature"),
        ("garbage", "token_malformed"),
    ):
        with pytest.raises(TokenRejected) as rejected:
            await _verify(app, bad, room["id"])
        assert rejected.value.code == code

    # A token a developer signs with the project secret themselves (no kid) is accepted too.
    own = jwt.encode(
        {"u": "Self", "role": "moderator", "exp": now + 60}, project.secret_key, algorithm="HS256"
    )
    assert (await _verify(app, own, room["id"])).role == "moderator"

    # Revoking the signing credential invalidates its tokens.
    base = f"/api/v1/projects/{project.id}/credentials"
    await client.post(f"{base}/{project.api_key}/rotate", headers=org.headers)
    with pytest.raises(TokenRejected):
        await _verify(app, token, room["id"])

"""Videsk VPaaS rooms: every endpoint, its auth failures, validation errors and Feathers error bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from conclave.rooms.models import Room
from tests.factories import ProjectKeys, create_org, create_project, unique


def feathers(response: httpx.Response, status: int, name: str, class_name: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["name"] == name
    assert body["code"] == status
    assert body["className"] == class_name
    assert isinstance(body["message"], str) and body["message"]
    return body


def parse(value: str) -> datetime:
    assert value.endswith("Z") and len(value) == 24, value  # 2024-08-14T18:00:00.000Z
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
async def project(client: httpx.AsyncClient) -> ProjectKeys:
    return await create_project(client)


async def create(client: httpx.AsyncClient, project: ProjectKeys, **body: Any) -> dict[str, Any]:
    response = await client.post("/vpaas/rooms", json=body, headers=project.headers)
    assert response.status_code == 201, response.text
    room: dict[str, Any] = response.json()
    return room


async def native_room(client: httpx.AsyncClient, project: ProjectKeys, videsk_id: str) -> dict[str, Any]:
    rooms = (await client.get("/api/v1/rooms", headers=project.headers)).json()["data"]
    [room] = [r for r in rooms if r["id"].replace("-", "").startswith(videsk_id)]
    return dict(room)


# -- auth --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/vpaas/rooms"),
        ("POST", "/vpaas/rooms"),
        ("GET", "/vpaas/rooms/abc"),
        ("PATCH", "/vpaas/rooms/abc"),
        ("DELETE", "/vpaas/rooms/abc"),
        ("POST", "/vpaas/rooms/abc/join"),
    ],
)
async def test_every_endpoint_requires_the_api_token(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, json={} if method in ("POST", "PATCH") else None)
    feathers(response, 401, "NotAuthenticated", "not-authenticated")
    bad = await client.request(method, path, headers={"Authorization": "Bearer nope"})
    feathers(bad, 401, "NotAuthenticated", "not-authenticated")


async def test_basic_and_organization_credentials_are_refused(client: httpx.AsyncClient) -> None:
    org = await create_org(client)
    project = await create_project(client, org)
    feathers(
        await client.get("/vpaas/rooms", headers=org.headers), 401, "NotAuthenticated", "not-authenticated"
    )
    feathers(
        await client.get("/vpaas/rooms", headers=project.basic_headers),
        401,
        "NotAuthenticated",
        "not-authenticated",
    )


async def test_inactive_project_is_forbidden(client: httpx.AsyncClient) -> None:
    org = await create_org(client)
    project = await create_project(client, org)
    response = await client.put(
        f"/api/v1/projects/{project.id}/status", json={"status": "suspended"}, headers=org.headers
    )
    assert response.status_code == 200, response.text
    feathers(await client.get("/vpaas/rooms", headers=project.headers), 403, "Forbidden", "forbidden")


# -- create ------------------------------------------------------------------------------------


async def test_create_applies_documented_defaults(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    room = await create(client, project)
    assert len(room["id"]) == 24 and int(room["id"], 16) >= 0
    assert room["externalId"]
    assert room["name"] == room["externalId"]
    nbf, exp = parse(room["nbf"]), parse(room["exp"])
    assert before <= nbf <= datetime.now(UTC) + timedelta(seconds=2)
    assert exp - nbf == timedelta(hours=3)
    assert room["ended"] is False
    assert [a["jti"] for a in room["authorizations"]] == [
        jwt.decode(room["accessToken"], options={"verify_signature": False})["jti"]
    ]
    assert room["authorizations"][0]["ip"] is None
    parse(room["authorizations"][0]["createdAt"])


async def test_id_is_the_uuid_prefix(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    room = await create(client, project, externalId=unique("ext"))
    native = await native_room(client, project, room["id"])
    assert native["id"].replace("-", "")[:24] == room["id"]
    assert native["external_id"] == room["externalId"]


async def test_create_with_all_fields(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    nbf = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    body = {
        "externalId": unique("standup"),
        "name": "Team standup meeting",
        "nbf": nbf.isoformat().replace("+00:00", "Z"),
        "exp": (nbf + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
        "settings": {"maxParticipants": 10, "recordingEnabled": True},
    }
    room = await create(client, project, **body)
    assert room["name"] == "Team standup meeting"
    assert parse(room["nbf"]) == nbf
    assert parse(room["exp"]) == nbf + timedelta(hours=2)
    native = await native_room(client, project, room["id"])
    assert native["max_participants"] == 10
    assert native["recordings_enabled"] is True


async def test_access_token_opens_the_meeting_page(
    client: httpx.AsyncClient, app: FastAPI, project: ProjectKeys
) -> None:
    room = await create(client, project)
    native = await native_room(client, project, room["id"])
    async with app.state.sessionmaker() as session:
        row = await session.get(Room, native["id"])
        assert row is not None
        grant = await app.state.verifier.verify(session, room["accessToken"], row)
    assert grant.room_id == native["id"]
    assert grant.role == native["default_role"]


async def test_duplicate_external_id_is_a_conflict(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    external_id = unique("dup")
    await create(client, project, externalId=external_id)
    response = await client.post("/vpaas/rooms", json={"externalId": external_id}, headers=project.headers)
    body = feathers(response, 409, "Conflict", "conflict")
    assert "externalId" in body["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"unknown": 1},
        {"name": 5},
        {"name": ""},
        {"exp": "not a date"},
        {"nbf": "2030-01-01T10:00:00Z", "exp": "2030-01-01T09:00:00Z"},
        {"settings": {"colour": "red"}},
        {"settings": {"maxParticipants": 0}},
        {"externalId": "x" * 256},
    ],
)
async def test_create_validation_is_bad_request(
    client: httpx.AsyncClient, project: ProjectKeys, body: dict[str, Any]
) -> None:
    response = await client.post("/vpaas/rooms", json=body, headers=project.headers)
    feathers(response, 400, "BadRequest", "bad-request")


async def test_malformed_json_is_bad_request(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    response = await client.post(
        "/vpaas/rooms", content=b"{nope", headers={**project.headers, "Content-Type": "application/json"}
    )
    feathers(response, 400, "BadRequest", "bad-request")


# -- get ---------------------------------------------------------------------------------------


async def test_get_by_id_and_by_external_id(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    room = await create(client, project, externalId=unique("standup"))
    by_id = (await client.get(f"/vpaas/rooms/{room['id']}", headers=project.headers)).json()
    by_external = (await client.get(f"/vpaas/rooms/{room['externalId']}", headers=project.headers)).json()
    assert by_id == by_external
    assert by_id["id"] == room["id"]
    assert "accessToken" not in by_id
    upper = await client.get(f"/vpaas/rooms/{room['id'].upper()}", headers=project.headers)
    assert upper.json()["id"] == room["id"]


async def test_24_hex_external_id_still_resolves(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    room = await create(client, project, externalId="ab" * 12)
    response = await client.get("/vpaas/rooms/" + "ab" * 12, headers=project.headers)
    assert response.status_code == 200
    assert response.json()["id"] == room["id"]


async def test_unknown_and_foreign_rooms_are_not_found(
    client: httpx.AsyncClient, project: ProjectKeys
) -> None:
    other = await create_project(client)
    theirs = await create(client, other, externalId=unique("theirs"))
    for ref in ("0" * 24, "no-such-room", theirs["id"], theirs["externalId"]):
        feathers(
            await client.get(f"/vpaas/rooms/{ref}", headers=project.headers), 404, "NotFound", "not-found"
        )


# -- list --------------------------------------------------------------------------------------


async def test_list_paginates_and_sorts(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    created = [await create(client, project, externalId=unique(f"r{i}")) for i in range(3)]
    page = (await client.get("/vpaas/rooms", headers=project.headers)).json()
    assert page["total"] == 3 and page["limit"] == 10 and page["skip"] == 0
    assert [r["id"] for r in page["data"]] == [r["id"] for r in reversed(created)]
    assert "accessToken" not in page["data"][0]
    assert len(page["data"][0]["authorizations"]) == 1

    ascending = [r["id"] for r in created]
    for params in (
        {"sort": '{"createdAt":1}'},
        {"$sort[createdAt]": "1"},
        {"sort[createdAt]": "1"},
        {"sort": "createdAt:1"},
    ):
        data = (await client.get("/vpaas/rooms", params=params, headers=project.headers)).json()["data"]
        assert [r["id"] for r in data] == ascending, params

    window = (
        await client.get(
            "/vpaas/rooms",
            params={"limit": 1, "skip": 1, "sort": '{"createdAt":-1}'},
            headers=project.headers,
        )
    ).json()
    assert window["total"] == 3 and window["limit"] == 1 and window["skip"] == 1
    assert [r["id"] for r in window["data"]] == [created[1]["id"]]
    feathers_style = (
        await client.get("/vpaas/rooms", params={"$limit": 2, "$skip": 0}, headers=project.headers)
    ).json()
    assert feathers_style["limit"] == 2 and len(feathers_style["data"]) == 2


async def test_list_filters(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    first = await create(client, project, externalId=unique("a"))
    second = await create(client, project, externalId=unique("b"))
    ended = await client.patch(f"/vpaas/rooms/{second['id']}", json={"ended": True}, headers=project.headers)
    assert ended.status_code == 200, ended.text
    by_external = (
        await client.get("/vpaas/rooms", params={"externalId": first["externalId"]}, headers=project.headers)
    ).json()
    assert by_external["total"] == 1 and by_external["data"][0]["id"] == first["id"]
    open_rooms = (await client.get("/vpaas/rooms", params={"ended": "false"}, headers=project.headers)).json()
    assert [r["id"] for r in open_rooms["data"]] == [first["id"]]
    closed = (await client.get("/vpaas/rooms", params={"ended": "true"}, headers=project.headers)).json()
    assert [r["id"] for r in closed["data"]] == [second["id"]]
    assert closed["data"][0]["ended"] is True


async def test_list_is_scoped_to_the_project(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    other = await create_project(client)
    await create(client, other)
    assert (await client.get("/vpaas/rooms", headers=project.headers)).json()["total"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "ten"},
        {"limit": "-1"},
        {"skip": "-5"},
        {"ended": "maybe"},
        {"sort": '{"color":1}'},
        {"sort": '{"createdAt":2}'},
        {"sort": "{broken"},
        {"$sort[password]": "1"},
    ],
)
async def test_list_query_errors(
    client: httpx.AsyncClient, project: ProjectKeys, params: dict[str, str]
) -> None:
    response = await client.get("/vpaas/rooms", params=params, headers=project.headers)
    feathers(response, 400, "BadRequest", "bad-request")


async def test_limit_is_capped(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    page = (await client.get("/vpaas/rooms", params={"limit": 1000}, headers=project.headers)).json()
    assert page["limit"] == 100


# -- patch -------------------------------------------------------------------------------------


async def test_patch_changes_fields_and_generates_a_token(
    client: httpx.AsyncClient, project: ProjectKeys
) -> None:
    room = await create(client, project)
    exp = parse(room["nbf"]) + timedelta(hours=5)
    response = await client.patch(
        f"/vpaas/rooms/{room['id']}",
        json={"name": "Updated meeting name", "exp": exp.isoformat(), "generateToken": True},
        headers=project.headers,
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["name"] == "Updated meeting name"
    assert parse(patched["exp"]) == exp
    assert patched["accessToken"].startswith("eyJ")
    assert len(patched["authorizations"]) == 2
    plain = (
        await client.patch(f"/vpaas/rooms/{room['id']}", json={"name": "x"}, headers=project.headers)
    ).json()
    assert plain.get("accessToken") is None


async def test_patch_end_and_reopen(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    room = await create(client, project, externalId=unique("end"))
    path = f"/vpaas/rooms/{room['externalId']}"
    ended = await client.patch(path, json={"ended": True}, headers=project.headers)
    assert ended.status_code == 200 and ended.json()["ended"] is True
    native = await native_room(client, project, room["id"])
    assert native["status"] == "ended"
    for body in ({"name": "late"}, {"ended": True}, {"generateToken": True}):
        gone = await client.patch(path, json=body, headers=project.headers)
        assert feathers(gone, 404, "NotFound", "not-found")["message"] == "Room not found or already ended"
    reopened = await client.patch(path, json={"ended": False, "name": "again"}, headers=project.headers)
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["ended"] is False and reopened.json()["name"] == "again"
    assert (await native_room(client, project, room["id"]))["status"] == "idle"


@pytest.mark.parametrize(
    "body",
    [
        {"generateToken": "yes"},
        {"ended": "true"},
        {"externalId": "cannot-change"},
        {"exp": "2000-01-01T00:00:00Z"},
        {"ended": True, "generateToken": True},
    ],
)
async def test_patch_validation(
    client: httpx.AsyncClient, project: ProjectKeys, body: dict[str, Any]
) -> None:
    room = await create(client, project)
    response = await client.patch(f"/vpaas/rooms/{room['id']}", json=body, headers=project.headers)
    feathers(response, 400, "BadRequest", "bad-request")


async def test_patch_unknown_room(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    response = await client.patch("/vpaas/rooms/missing", json={"name": "x"}, headers=project.headers)
    feathers(response, 404, "NotFound", "not-found")


# -- delete ------------------------------------------------------------------------------------


async def test_delete_is_always_forbidden(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    room = await create(client, project)
    for ref in (room["id"], "missing"):
        response = await client.delete(f"/vpaas/rooms/{ref}", headers=project.headers)
        assert response.status_code == 403
        assert response.json() == {
            "name": "Forbidden",
            "message": "Not allowed",
            "code": 403,
            "className": "forbidden",
        }
    assert (await client.get(f"/vpaas/rooms/{room['id']}", headers=project.headers)).status_code == 200


# -- join --------------------------------------------------------------------------------------


async def test_join_issues_a_recorded_token(
    client: httpx.AsyncClient, app: FastAPI, project: ProjectKeys
) -> None:
    room = await create(client, project, externalId=unique("join"))
    response = await client.post(f"/vpaas/rooms/{room['externalId']}/join", json={}, headers=project.headers)
    assert response.status_code == 201, response.text
    token = response.json()["accessToken"]
    assert list(response.json()) == ["accessToken"]
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    without_body = await client.post(f"/vpaas/rooms/{room['id']}/join", headers=project.headers)
    assert without_body.status_code == 201

    # The join flow records where a token first admitted someone; authorizations show it.
    native = await native_room(client, project, room["id"])
    async with app.state.sessionmaker() as session:
        await app.state.access.record_token_use(session, project.id, jti, "192.168.1.1")
        await session.commit()
    shown = (await client.get(f"/vpaas/rooms/{room['id']}", headers=project.headers)).json()
    assert {a["jti"]: a["ip"] for a in shown["authorizations"]}[jti] == "192.168.1.1"
    assert len(shown["authorizations"]) == 3
    assert native["external_id"] == room["externalId"]


async def test_join_refuses_ended_and_expired_rooms(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    ended = await create(client, project)
    await client.patch(f"/vpaas/rooms/{ended['id']}", json={"ended": True}, headers=project.headers)
    response = await client.post(f"/vpaas/rooms/{ended['id']}/join", json={}, headers=project.headers)
    feathers(response, 403, "Forbidden", "forbidden")

    expired = await create(client, project, nbf="2020-01-01T00:00:00Z", exp="2020-01-01T01:00:00Z")
    response = await client.post(f"/vpaas/rooms/{expired['id']}/join", json={}, headers=project.headers)
    assert feathers(response, 403, "Forbidden", "forbidden")["message"] == "Room has expired"


async def test_join_validation_and_not_found(client: httpx.AsyncClient, project: ProjectKeys) -> None:
    room = await create(client, project)
    bad = await client.post(
        f"/vpaas/rooms/{room['id']}/join", json={"role": "moderator"}, headers=project.headers
    )
    feathers(bad, 400, "BadRequest", "bad-request")
    missing = await client.post("/vpaas/rooms/missing/join", json={}, headers=project.headers)
    feathers(missing, 404, "NotFound", "not-found")


# -- everything else ---------------------------------------------------------------------------


async def test_unknown_paths_and_methods_answer_in_feathers_shape(
    client: httpx.AsyncClient, project: ProjectKeys
) -> None:
    feathers(await client.get("/vpaas/nothing", headers=project.headers), 404, "NotFound", "not-found")
    feathers(
        await client.put("/vpaas/rooms/abc", json={}, headers=project.headers),
        405,
        "MethodNotAllowed",
        "method-not-allowed",
    )

"""Data deletion: a session's resources (with and without history) and the tag delete's flags."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from conclave.kit.transaction import transaction
from tests.content import join
from tests.factories import create_project, create_room

ANN = {"name": "Ann", "external_id": "ann"}


async def test_session_resources_and_history(client: httpx.AsyncClient, app: FastAPI) -> None:
    project = await create_project(client)
    room = await create_room(client, project)
    h = project.headers
    rid = room["id"]
    ann = await join(app, project, rid, name="Ann", external_id="ann-ext")
    await client.post(f"/api/v1/rooms/{rid}/chat", json={"message": "hi"}, headers=h)
    await client.post(
        f"/api/v1/rooms/{rid}/questions", json={"participant": ANN, "question": "q?"}, headers=h
    )
    poll = (
        await client.post(f"/api/v1/rooms/{rid}/polls", json={"question": "p", "type": "free"}, headers=h)
    ).json()
    await client.post(f"/api/v1/rooms/{rid}/polls/{poll['id']}/launch", headers=h)
    async with transaction(app.state.sessionmaker, app.state.bus) as db:
        await app.state.transcripts.add_caption(
            db,
            project.id,
            ann.session_id,
            ann.participant_id,
            "Hello.",
            speaker_id=None,
            language=None,
            start=None,
            end=None,
        )
    await client.get(f"/api/v1/sessions/{ann.session_id}/summary", headers=h)

    assert (
        await client.request(
            "DELETE",
            f"/api/v1/sessions/{ann.session_id}/resources",
            json={"delete_history": "yes"},
            headers=h,
        )
    ).status_code == 422
    response = await client.request(
        "DELETE", f"/api/v1/sessions/{ann.session_id}/resources", json={"delete_history": True}, headers=h
    )
    assert response.status_code == 204, response.text
    for path in ("chat", "questions", "polls", "transcripts"):
        assert (await client.get(f"/api/v1/rooms/{rid}/{path}", headers=h)).json()["total_count"] == 0, path
    assert (await client.get(f"/api/v1/sessions/{ann.session_id}/summary", headers=h)).status_code == 404
    participants = (await client.get(f"/api/v1/sessions/{ann.session_id}/participants", headers=h)).json()[
        "data"
    ]
    assert [(p["name"], p["external_id"]) for p in participants] == [("Anonymous", None)]
    # Without a body: content only, history kept.
    bob = await join(app, project, rid, name="Bob", external_id="bob")
    assert (await client.delete(f"/api/v1/sessions/{bob.session_id}/resources", headers=h)).status_code == 204
    names = {
        p["name"]
        for p in (await client.get(f"/api/v1/sessions/{bob.session_id}/participants", headers=h)).json()[
            "data"
        ]
    }
    assert "Bob" in names
    other = await create_project(client)
    assert (
        await client.delete(f"/api/v1/sessions/{bob.session_id}/resources", headers=other.headers)
    ).status_code == 404


async def test_tag_delete_flags(client: httpx.AsyncClient, app: FastAPI) -> None:
    project = await create_project(client)
    h = project.headers
    kept_lib = await create_room(client, project, tags=["old"])
    dropped_lib = await create_room(client, project, tags=["stale"])
    lib_a = (
        await client.post("/api/v1/libraries", json={"name": "A", "room": kept_lib["id"]}, headers=h)
    ).json()
    lib_b = (
        await client.post("/api/v1/libraries", json={"name": "B", "room": dropped_lib["id"]}, headers=h)
    ).json()
    upload = await client.post(
        f"/api/v1/libraries/{lib_b['id']}/files", files={"file": ("a.txt", b"x", "text/plain")}, headers=h
    )
    stored = app.state.libraries.root / project.id / upload.json()["id"]
    assert stored.exists()

    plain = await client.request("DELETE", "/api/v1/rooms/tags", json={"tags": ["old"]}, headers=h)
    assert plain.json()["deleted"] == [kept_lib["id"]]
    library = (await client.get("/api/v1/libraries", headers=h)).json()["data"]
    assert {(lib["id"], lib["room_id"]) for lib in library} == {
        (lib_a["id"], None),
        (lib_b["id"], dropped_lib["id"]),
    }

    flagged = await client.request(
        "DELETE",
        "/api/v1/rooms/tags",
        json={"tags": ["stale"], "delete_resources": True, "delete_history": True, "delete_library": True},
        headers=h,
    )
    assert flagged.status_code == 200 and flagged.json()["deleted"] == [dropped_lib["id"]]
    assert [lib["id"] for lib in (await client.get("/api/v1/libraries", headers=h)).json()["data"]] == [
        lib_a["id"]
    ]
    assert not stored.exists()

"""Libraries: folders, uploads with limits, streamed and signed downloads, sharing into chat."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from conclave.libraries import service as library_service
from tests.content import join
from tests.factories import create_project, create_room


async def test_folders_files_and_links(client: httpx.AsyncClient, app: FastAPI) -> None:
    project = await create_project(client)
    room = await create_room(client, project)
    h = project.headers
    for bad in ({}, {"name": ""}, {"name": "x" * 256}, {"name": "ok", "room": "missing-room"}):
        response = await client.post("/api/v1/libraries", json=bad, headers=h)
        assert response.status_code in (404, 422), bad
    shared = (await client.post("/api/v1/libraries", json={"name": "Shared"}, headers=h)).json()
    own = (
        await client.post("/api/v1/libraries", json={"name": "Room", "room": room["friendly_url"]}, headers=h)
    ).json()
    assert shared["room_id"] is None and own["room_id"] == room["id"]
    listing = (await client.get("/api/v1/libraries?order=asc", headers=h)).json()
    assert [lib["name"] for lib in listing["data"]] == ["Shared", "Room"]
    assert [
        lib["name"]
        for lib in (await client.get(f"/api/v1/libraries?after={own['id']}", headers=h)).json()["data"]
    ] == ["Shared"]

    files = f"/api/v1/libraries/{shared['id']}/files"
    content = b"%PDF-1.4 slides " * 1000
    uploaded = await client.post(files, files={"file": ("deck.pdf", content, "text/html")}, headers=h)
    assert uploaded.status_code == 200, uploaded.text
    meta = uploaded.json()
    assert (meta["name"], meta["size"], meta["content_type"]) == ("deck.pdf", len(content), "application/pdf")
    assert meta["sha256"] == hashlib.sha256(content).hexdigest()
    second = (
        await client.post(files, files={"file": ("notes.txt", b"hello", "text/plain")}, headers=h)
    ).json()
    page = (await client.get(f"{files}?limit=1&order=asc", headers=h)).json()
    assert page["total_count"] == 2 and page["data"][0]["id"] == meta["id"]

    for name, body, code in (
        ("page.html", b"<script>", "unsupported_file_type"),
        ("image.svg", b"<svg/>", "unsupported_file_type"),
        ("empty.txt", b"", "empty_file"),
    ):
        refused = await client.post(files, files={"file": (name, body, "text/plain")}, headers=h)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == code, name
    original = library_service.MAX_FILE_BYTES
    library_service.MAX_FILE_BYTES = 10
    try:
        big = await client.post(files, files={"file": ("big.txt", b"x" * 11, "text/plain")}, headers=h)
        assert big.status_code == 422 and big.json()["error"]["code"] == "file_too_large"
    finally:
        library_service.MAX_FILE_BYTES = original
    assert (await client.get(files, headers=h)).json()["total_count"] == 2  # the refused ones left nothing
    assert (await client.post(files, headers=h)).status_code == 422

    download = await client.get(f"{files}/{meta['id']}/download", headers=h)
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"] == "application/pdf"

    # Share into a live room's chat: a signed link anyone in the meeting can open.
    refused = await client.post(f"{files}/{meta['id']}/share", json={"room": room["id"]}, headers=h)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_live_session"
    await join(app, project, room["id"])
    shared_link = await client.post(
        f"{files}/{meta['id']}/share", json={"room": room["id"], "message": "Slides"}, headers=h
    )
    assert shared_link.status_code == 200, shared_link.text
    url = shared_link.json()["url"]
    chat = (await client.get(f"/api/v1/rooms/{room['id']}/chat", headers=h)).json()
    assert chat["data"][0]["message"] == f"Slides 📎 deck.pdf: {url}"
    parts = urlsplit(url)
    public = await client.get(f"{parts.path}?{parts.query}")
    assert public.status_code == 200 and public.content == content
    tampered = await client.get(f"{parts.path}?{parts.query.replace('signature=', 'signature=0')}")
    assert tampered.status_code in (403, 422)
    expired = app.state.libraries.signed_link
    from datetime import timedelta

    from conclave.kit.time import utcnow

    async with app.state.sessionmaker() as db:
        from conclave.libraries.repository import FileRepository

        row = await FileRepository(db, project.id).get(meta["id"])
    assert row is not None
    old_url, _ = expired(row, now=utcnow() - timedelta(days=2))
    old = urlsplit(old_url)
    gone = await client.get(f"{old.path}?{old.query}")
    assert gone.status_code == 403 and gone.json()["error"]["code"] == "link_expired"

    other = await create_project(client)
    assert (await client.get(files, headers=other.headers)).status_code == 404
    assert (await client.get(f"{files}/{meta['id']}/download", headers=other.headers)).status_code == 404
    stored = app.state.libraries.root / project.id / meta["id"]
    assert stored.exists()
    assert (await client.delete(f"{files}/{meta['id']}", headers=h)).status_code == 204
    assert not stored.exists()
    assert (await client.get(f"{parts.path}?{parts.query}")).status_code == 404
    assert (await client.delete(f"{files}/{meta['id']}", headers=h)).status_code == 404
    assert (await client.delete(f"/api/v1/libraries/{shared['id']}", headers=h)).status_code == 204
    assert not (app.state.libraries.root / project.id / second["id"]).exists()

"""Transcript storage and API, transcript.ready on session end, and summary jobs."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from conclave.kit.transaction import transaction
from tests.content import Joined, join
from tests.factories import ProjectKeys, create_project, create_room

LINES = [
    "We need to ship the release on Friday.",
    "The release needs QA sign-off first.",
    "Lunch was good.",
    "QA will test the release on Thursday.",
    "Bob will write the release notes.",
]


async def caption(app: FastAPI, project: ProjectKeys, joined: Joined, text: str, start: float) -> None:
    async with transaction(app.state.sessionmaker, app.state.bus) as db:
        await app.state.transcripts.add_caption(
            db,
            project.id,
            joined.session_id,
            joined.participant_id,
            text,
            speaker_id=None,
            language="en",
            start=start,
            end=start + 2,
        )


async def test_transcripts_api_and_summary(client: httpx.AsyncClient, app: FastAPI) -> None:
    project = await create_project(client)
    room = await create_room(client, project)
    h = project.headers
    ann = await join(app, project, room["id"], name="Ann")
    for n, line in enumerate(LINES):
        await caption(app, project, ann, line, 1_700_000_000 + 10 * n)

    listing = (await client.get(f"/api/v1/rooms/{room['id']}/transcripts?order=asc", headers=h)).json()
    assert listing["total_count"] == 5
    first = listing["data"][0]
    assert (first["participant_name"], first["transcript"]) == ("Ann", LINES[0])
    assert (first["start_time"], first["end_time"]) == ("2023-11-14T22:13:20Z", "2023-11-14T22:13:22Z")
    page = (
        await client.get(f"/api/v1/rooms/{room['id']}/transcripts?order=asc&limit=2&offset=2", headers=h)
    ).json()
    assert [s["transcript"] for s in page["data"]] == LINES[2:4]
    after = (
        await client.get(
            f"/api/v1/rooms/{room['id']}/transcripts?after={first['id']}&order=asc&limit=1", headers=h
        )
    ).json()
    assert [s["transcript"] for s in after["data"]] == LINES[1:2]
    session_list = (await client.get(f"/api/v1/sessions/{ann.session_id}/transcripts", headers=h)).json()
    assert session_list["total_count"] == 5

    exported = await client.get(f"/api/v1/rooms/{room['id']}/transcripts/export?format=json", headers=h)
    assert [s["transcript"] for s in json.loads(exported.text)] == LINES
    text = (
        await client.get(f"/api/v1/sessions/{ann.session_id}/transcripts/export?locale=it", headers=h)
    ).text
    assert text.startswith("Trascrizione") and "Ann: Bob will write the release notes." in text
    body_locale = await client.request(
        "GET", f"/api/v1/rooms/{room['id']}/transcripts/export", json={"lang": "de"}, headers=h
    )
    assert body_locale.text.startswith("Transkript")
    assert (
        await client.get(f"/api/v1/rooms/{room['id']}/transcripts/export?locale=fr", headers=h)
    ).status_code == 422
    assert (
        await client.get(f"/api/v1/rooms/{room['id']}/transcripts/export?format=srt", headers=h)
    ).status_code == 422

    # Asking while live starts the summary job; the runner makes it READY.
    pending = (await client.get(f"/api/v1/sessions/{ann.session_id}/summary", headers=h)).json()
    assert pending["status"] == "IN_PROGRESS" and pending["summary"] == "" and pending["job_id"]
    await app.state.runner.run_due()
    ready = (await client.get(f"/api/v1/sessions/{ann.session_id}/summary", headers=h)).json()
    assert ready["status"] == "READY" and ready["job_id"] == pending["job_id"]
    # Extractive: the summary is made of the transcript's own sentences, the most representative first.
    chosen = [s if s.endswith(".") else f"{s}." for s in ready["summary"].split(". ")]
    assert chosen and all(sentence in LINES for sentence in chosen) and "Lunch was good." not in chosen

    # Ending a transcribed session announces transcript.ready (durably, through a job).
    assert (await client.post(f"/api/v1/sessions/{ann.session_id}/end", headers=h)).status_code == 200
    await app.state.runner.run_due()
    events = (await client.get(f"/api/v1/rooms/{room['id']}/events?type=transcript.ready", headers=h)).json()
    assert events["total_count"] == 1 and events["data"][0]["data"]["segments"] == 5

    assert (await client.delete(f"/api/v1/sessions/{ann.session_id}/summaries", headers=h)).status_code == 204
    assert (
        await client.delete(f"/api/v1/sessions/{ann.session_id}/transcripts", headers=h)
    ).status_code == 204
    assert (await client.get(f"/api/v1/rooms/{room['id']}/transcripts", headers=h)).json()["total_count"] == 0
    missing = await client.get(f"/api/v1/sessions/{ann.session_id}/summary", headers=h)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "transcript_not_found"


async def test_room_deletes_and_isolation(client: httpx.AsyncClient, app: FastAPI) -> None:
    project = await create_project(client)
    room = await create_room(client, project)
    h = project.headers
    bob = await join(app, project, room["id"], name="Bob")
    await caption(app, project, bob, "Hello there.", 1_700_000_000)
    await client.get(f"/api/v1/sessions/{bob.session_id}/summary", headers=h)
    other = await create_project(client)
    assert (
        await client.get(f"/api/v1/rooms/{room['id']}/transcripts", headers=other.headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/sessions/{bob.session_id}/transcripts", headers=other.headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/sessions/{bob.session_id}/summary", headers=other.headers)
    ).status_code == 404
    assert (await client.get("/api/v1/sessions/nope/summary", headers=h)).status_code == 404
    assert (await client.get(f"/api/v1/rooms/{room['id']}/transcripts?limit=0", headers=h)).status_code == 422
    assert (await client.delete(f"/api/v1/rooms/{room['id']}/summaries", headers=h)).status_code == 204
    assert (await client.delete(f"/api/v1/rooms/{room['id']}/transcripts", headers=h)).status_code == 204
    assert (await client.get(f"/api/v1/sessions/{bob.session_id}/transcripts", headers=h)).json()[
        "total_count"
    ] == 0
    await app.state.runner.run_due()  # the queued summary job finds its row deleted and does nothing

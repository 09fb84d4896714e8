"""Q&A REST endpoints: every route, its validation, one vote per person, exports and deletes."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI

from tests.content import join
from tests.factories import create_project, create_room

ANN = {"name": "Ann", "external_id": "ann-1"}


async def test_question_lifecycle(client: httpx.AsyncClient, app: FastAPI) -> None:
    project = await create_project(client)
    room = await create_room(client, project, qa_enabled=True)
    h = project.headers
    base = f"/api/v1/rooms/{room['friendly_url']}/questions"

    created = await client.post(
        base, json={"participant": ANN, "question": "Why?", "anonymous": True}, headers=h
    )
    assert created.status_code == 200, created.text
    question = created.json()
    assert question["question"] == "Why?" and question["anonymous"] is True and question["status"] == "open"
    assert question["participant_name"] == "Ann" and question["session_id"] is None and question["votes"] == 0
    qid = question["id"]

    # {id} form: a participant of this room (here in a live session, so the question joins it).
    joined = await join(app, project, room["id"], name="Bob", external_id="bob-1")
    by_id = await client.post(
        base, json={"participant": {"id": joined.participant_id}, "question": "How?"}, headers=h
    )
    assert by_id.status_code == 200 and by_id.json()["session_id"] == joined.session_id
    assert by_id.json()["participant_id"] == joined.participant_id

    edited = await client.patch(f"{base}/{qid}", json={"participant": ANN, "question": "Why not?"}, headers=h)
    assert edited.status_code == 200 and edited.json()["question"] == "Why not?"

    dismissed = await client.post(f"{base}/{qid}/dismiss", json={"participant": ANN}, headers=h)
    assert dismissed.json()["status"] == "dismissed"
    again = await client.post(f"{base}/{qid}/dismiss", json={"participant": ANN}, headers=h)
    assert again.status_code == 409 and again.json()["error"]["code"] == "question_already_dismissed"
    assert (await client.post(f"{base}/{qid}/reopen", json={"participant": ANN}, headers=h)).json()[
        "status"
    ] == "open"

    # One vote per person: Bob by participant id and by external id is the same voter.
    voted = await client.post(
        f"{base}/{qid}/vote", json={"participant": {"id": joined.participant_id}}, headers=h
    )
    assert voted.json()["votes"] == 1
    twice = await client.post(
        f"{base}/{qid}/vote", json={"participant": {"name": "Bob", "external_id": "bob-1"}}, headers=h
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_voted"
    assert (await client.post(f"{base}/{qid}/vote", json={"participant": ANN}, headers=h)).json()[
        "votes"
    ] == 2
    unvoted = await client.request("DELETE", f"{base}/{qid}/vote", json={"participant": ANN}, headers=h)
    assert unvoted.json()["votes"] == 1
    none = await client.request("DELETE", f"{base}/{qid}/vote", json={"participant": ANN}, headers=h)
    assert none.status_code == 404 and none.json()["error"]["code"] == "vote_not_found"

    mod = {"name": "Moderator", "external_id": "mod"}
    answer = await client.post(
        f"{base}/{qid}/answers", json={"participant": mod, "answer": "Because.", "private": True}, headers=h
    )
    assert answer.status_code == 200 and answer.json()["private"] is True
    aid = answer.json()["id"]
    public = await client.post(
        f"{base}/{qid}/answers", json={"participant": mod, "answer": "Also."}, headers=h
    )
    assert public.json()["private"] is False
    patched = await client.patch(
        f"{base}/{qid}/answers/{aid}", json={"participant": mod, "answer": "Because!"}, headers=h
    )
    assert patched.json()["answer"] == "Because!"
    deleted = await client.request(
        "DELETE", f"{base}/{qid}/answers/{public.json()['id']}", json={"participant": mod}, headers=h
    )
    assert deleted.status_code == 204
    missing = await client.request(
        "DELETE", f"{base}/{qid}/answers/nope", json={"participant": mod}, headers=h
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "answer_not_found"

    # Live answers: start → stop; cancel without a live answer is a conflict.
    started = await client.post(f"{base}/{qid}/live-answers/start", json={"participant": mod}, headers=h)
    assert started.json()["live_answer"] == {"status": "started", "participant_name": "Moderator"}
    assert (
        await client.post(f"{base}/{qid}/live-answers/start", json={"participant": mod}, headers=h)
    ).status_code == 409
    stopped = await client.post(f"{base}/{qid}/live-answers/stop", json={"participant": mod}, headers=h)
    assert stopped.json()["live_answer"]["status"] == "answered"
    cancel = await client.post(f"{base}/{qid}/live-answers/cancel", json={"participant": mod}, headers=h)
    assert cancel.status_code == 409 and cancel.json()["error"]["code"] == "no_live_answer"
    assert (
        await client.post(f"{base}/{qid}/live-answers/pause", json={"participant": mod}, headers=h)
    ).status_code == 422

    listing = (await client.get(f"{base}?order=asc", headers=h)).json()
    assert listing["total_count"] == 2
    first = listing["data"][0]
    assert first["id"] == qid and [a["answer"] for a in first["answers"]] == ["Because!"]

    exported = await client.get(f"{base}/export?format=json", headers=h)
    parsed: list[dict[str, Any]] = json.loads(exported.text)
    assert [q["question"] for q in parsed] == ["Why not?", "How?"] and parsed[0]["answers"][0][
        "private"
    ] is True
    text = (await client.get(f"{base}/export", headers=h)).text
    assert "Anonymous: Why not?" in text and "A (private) Moderator: Because!" in text
    assert (await client.get(f"{base}/export?format=pdf", headers=h)).status_code == 422

    session_only = (await client.get(f"{base}?session_id={joined.session_id}", headers=h)).json()
    assert [q["question"] for q in session_only["data"]] == ["How?"]
    assert (
        await client.delete(f"/api/v1/sessions/{joined.session_id}/questions", headers=h)
    ).status_code == 204
    assert (await client.get(base, headers=h)).json()["total_count"] == 1
    assert (
        await client.request("DELETE", f"{base}/{qid}", json={"participant": ANN}, headers=h)
    ).status_code == 204
    assert (
        await client.post(f"{base}/{qid}/dismiss", json={"participant": ANN}, headers=h)
    ).status_code == 404


async def test_validation_isolation_and_pagination(client: httpx.AsyncClient, app: FastAPI) -> None:
    project = await create_project(client)
    room = await create_room(client, project)
    other_room = await create_room(client, project)
    h = project.headers
    base = f"/api/v1/rooms/{room['id']}/questions"
    for bad in (
        {"question": "no participant"},
        {"participant": ANN},
        {"participant": ANN, "question": ""},
        {"participant": ANN, "question": "x" * 2001},
        {"participant": {"name": "Ann"}, "question": "q"},
        {"participant": {"id": "x", "name": "Ann", "external_id": "a"}, "question": "q"},
        {"participant": ANN, "question": "q", "anonymous": "yes"},
        {"participant": ANN, "question": "q", "extra": 1},
    ):
        response = await client.post(base, json=bad, headers=h)
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "validation_error"
    # A participant of another room, or an unknown one, is not found.
    elsewhere = await join(app, project, other_room["id"])
    for ref in ({"id": elsewhere.participant_id}, {"id": "00000000-0000-0000-0000-000000000000"}):
        response = await client.post(base, json={"participant": ref, "question": "q"}, headers=h)
        assert response.status_code == 404 and response.json()["error"]["code"] == "participant_not_found"

    ids = []
    for n in range(5):
        response = await client.post(base, json={"participant": ANN, "question": f"q{n}"}, headers=h)
        ids.append(response.json()["id"])
    page = (await client.get(f"{base}?limit=2&offset=1&order=asc", headers=h)).json()
    assert page["total_count"] == 5 and [q["question"] for q in page["data"]] == ["q1", "q2"]
    after = (await client.get(f"{base}?after={ids[3]}", headers=h)).json()
    assert [q["question"] for q in after["data"]] == ["q2", "q1", "q0"]
    assert (await client.get(f"{base}?after=nope", headers=h)).status_code == 404
    assert (await client.get(f"{base}?limit=101", headers=h)).status_code == 422

    other = await create_project(client)
    assert (await client.get(base, headers=other.headers)).status_code == 404
    foreign = await client.post(
        f"/api/v1/rooms/{room['id']}/questions/{ids[0]}/vote",
        json={"participant": ANN},
        headers=other.headers,
    )
    assert foreign.status_code == 404
    # A question id of another room of the same project is not found here.
    other_q = f"/api/v1/rooms/{other_room['id']}/questions/{ids[0]}/dismiss"
    assert (await client.post(other_q, json={"participant": ANN}, headers=h)).status_code == 404
    assert (await client.delete("/api/v1/sessions/nope/questions", headers=h)).status_code == 404
    assert (await client.delete(base, headers=h)).status_code == 204
    assert (await client.get(base, headers=h)).json() == {"total_count": 0, "data": []}

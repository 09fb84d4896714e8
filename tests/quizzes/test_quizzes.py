"""Quiz REST endpoints: constraints, PATCH semantics, runs, server-side deadlines, import/export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from conclave.kit.time import utcnow
from conclave.kit.transaction import transaction
from tests.content import join
from tests.factories import create_project, create_room

QUESTIONS: list[dict[str, Any]] = [
    {
        "text": "Question #1",
        "multiple": False,
        "choices": [{"text": "Right", "correct": True}, {"text": "Wrong"}],
    },
    {
        "text": "Question #2",
        "multiple": True,
        "choices": [{"text": "A", "correct": True}, {"text": "B"}, {"text": "C", "correct": True}],
    },
]


async def test_crud_and_constraints(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    room = await create_room(client, project)
    h = project.headers
    base = f"/api/v1/rooms/{room['id']}/quizzes"
    created = await client.post(
        base, json={"title": "My quiz", "time_limit_minutes": 45, "questions": QUESTIONS}, headers=h
    )
    assert created.status_code == 200, created.text
    quiz = created.json()
    assert (quiz["title"], quiz["time_limit_minutes"], quiz["time_limit_seconds"], quiz["status"]) == (
        "My quiz",
        45,
        2700,
        "created",
    )
    assert [len(q["choices"]) for q in quiz["questions"]] == [2, 3] and quiz["questions"][1]["choices"][2][
        "correct"
    ]
    seconds = await client.post(
        base,
        json={"title": "Fast", "time_limit_seconds": 90, "timing_mode": "question", "questions": QUESTIONS},
        headers=h,
    )
    assert seconds.json()["time_limit_minutes"] is None and seconds.json()["timing_mode"] == "question"

    one_q = QUESTIONS[:1]
    for bad in (
        {"title": "", "questions": one_q},
        {"title": "x" * 513, "questions": one_q},
        {"title": "t", "questions": []},
        {"title": "t", "time_limit_minutes": 0, "questions": one_q},
        {"title": "t", "time_limit_minutes": 1441, "questions": one_q},
        {"title": "t", "time_limit_seconds": 86401, "questions": one_q},
        {"title": "t", "time_limit_minutes": 1, "time_limit_seconds": 60, "questions": one_q},
        {"title": "t", "timing_mode": "section", "questions": one_q},
        {"title": "t", "questions": [{"text": "", "choices": QUESTIONS[0]["choices"]}]},
        {"title": "t", "questions": [{"text": "x" * 513, "choices": QUESTIONS[0]["choices"]}]},
    ):
        assert (await client.post(base, json=bad, headers=h)).status_code == 422, bad
    for rule in (
        [{"text": "only", "correct": True}],
        [{"text": "a"}, {"text": "b"}],
        [{"text": "a", "correct": True}, {"text": "b", "correct": True}],
    ):
        response = await client.post(
            base, json={"title": "t", "questions": [{"text": "q", "choices": rule}]}, headers=h
        )
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_question", rule

    q1 = quiz["questions"][0]
    patch = {
        "title": "Renamed",
        "time_limit_seconds": 30,
        "questions": [
            {
                "id": q1["id"],
                "text": "Question #1 (edited)",
                "choices": [
                    {"id": q1["choices"][0]["id"], "text": "Right!", "correct": True},
                    {"text": "Also wrong"},
                ],
            },
            {"text": "Question #3", "choices": [{"text": "Yes", "correct": True}, {"text": "No"}]},
        ],
    }
    patched = await client.patch(f"{base}/{quiz['id']}", json=patch, headers=h)
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["title"] == "Renamed" and body["time_limit_seconds"] == 30
    assert [q["text"] for q in body["questions"]] == ["Question #1 (edited)", "Question #2", "Question #3"]
    assert [c["text"] for c in body["questions"][0]["choices"]] == ["Right!", "Wrong", "Also wrong"]
    unknown = await client.patch(
        f"{base}/{quiz['id']}", json={"questions": [{"id": "nope", "text": "x"}]}, headers=h
    )
    assert unknown.status_code == 404
    broken = {
        "questions": [
            {
                "id": q1["id"],
                "text": "q",
                "choices": [{"id": q1["choices"][0]["id"], "text": "r", "correct": False}],
            }
        ]
    }
    assert (await client.patch(f"{base}/{quiz['id']}", json=broken, headers=h)).status_code == 422
    assert (await client.get(f"{base}/{quiz['id']}", headers=h)).json()["questions"][0][
        "text"
    ] == "Question #1 (edited)"

    listing = (await client.get(f"{base}?order=asc", headers=h)).json()
    assert listing["total_count"] == 2 and set(listing["data"][0]) >= {
        "id",
        "title",
        "time_limit_minutes",
        "status",
        "created_at",
    }
    assert [
        q["title"] for q in (await client.get(f"{base}?limit=1&offset=1&order=asc", headers=h)).json()["data"]
    ] == ["Fast"]
    assert [
        q["title"]
        for q in (await client.get(f"{base}?after={seconds.json()['id']}", headers=h)).json()["data"]
    ] == ["Renamed"]

    other = await create_project(client)
    assert (await client.get(f"{base}/{quiz['id']}", headers=other.headers)).status_code == 404
    assert (await client.delete(f"{base}/{quiz['id']}", headers=h)).status_code == 204
    assert (await client.get(f"{base}/{quiz['id']}", headers=h)).status_code == 404
    assert (await client.delete(base, headers=h)).status_code == 204
    assert (await client.get(base, headers=h)).json()["total_count"] == 0


async def test_runs_deadlines_results_and_export(client: httpx.AsyncClient, app: FastAPI) -> None:
    project = await create_project(client)
    room = await create_room(client, project)
    h = project.headers
    base = f"/api/v1/rooms/{room['id']}/quizzes"
    quiz = (
        await client.post(
            base, json={"title": "Timed", "time_limit_seconds": 1, "questions": QUESTIONS}, headers=h
        )
    ).json()
    refused = await client.post(f"{base}/{quiz['id']}/launch", headers=h)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_live_session"

    ann = await join(app, project, room["id"], name="Ann")
    launched = await client.post(f"{base}/{quiz['id']}/launch", headers=h)
    assert launched.status_code == 200 and launched.json()["session_id"] == ann.session_id
    assert (await client.post(f"{base}/{quiz['id']}/launch", headers=h)).json()["error"][
        "code"
    ] == "quiz_launched"
    assert (await client.patch(f"{base}/{quiz['id']}", json={"title": "x"}, headers=h)).status_code == 409

    service = app.state.quizzes
    q1, q2 = quiz["questions"]
    async with transaction(app.state.sessionmaker, app.state.bus) as db:
        row = await service.quiz_in_room(db, project.id, room["id"], quiz["id"])
        await service.answer(
            db,
            row,
            participant_id=ann.participant_id,
            session_id=ann.session_id,
            question_id=q1["id"],
            choice_ids=[q1["choices"][0]["id"]],
        )
    # The deadline is the server's: an answer stamped after it is refused.
    async with transaction(app.state.sessionmaker, app.state.bus) as db:
        row = await service.quiz_in_room(db, project.id, room["id"], quiz["id"])
        try:
            await service.answer(
                db,
                row,
                participant_id=ann.participant_id,
                session_id=ann.session_id,
                question_id=q2["id"],
                choice_ids=[q2["choices"][0]["id"]],
                now=utcnow() + timedelta(seconds=2),
            )
        except Exception as exc:
            assert getattr(exc, "code", None) == "quiz_time_over"
        else:
            raise AssertionError("an answer after the deadline was accepted")

    # The durable deadline job ends the run once it is due.
    await asyncio.sleep(1.2)
    await app.state.runner.run_due()
    results = (await client.get(f"{base}/{quiz['id']}/results", headers=h)).json()
    assert len(results) == 1
    run = results[0]
    assert run["status"] == "ended" and run["session_id"] == ann.session_id and run["ended"]
    assert run["questions"][0]["voted"] == 1
    assert run["questions"][0]["votes"][0]["voters"] == [{"id": ann.participant_id, "name": "Ann"}]
    assert (await client.get(f"{base}/{quiz['id']}/results?session_id=other", headers=h)).json() == []

    exported = await client.get(f"{base}/export?format=json", headers=h)
    assert json.loads(exported.text) == results
    rows = list(csv.DictReader(io.StringIO((await client.get(f"{base}/export?format=csv", headers=h)).text)))
    assert [(r["choice"], r["voted"], r["correct"]) for r in rows[:2]] == [
        ("Right", "1", "true"),
        ("Wrong", "0", "false"),
    ]
    assert "[*] Right: 1" in (await client.get(f"{base}/export?format=txt", headers=h)).text
    assert (await client.get(f"{base}/export?format=xml", headers=h)).status_code == 422

    assert (await client.post(f"{base}/{quiz['id']}/end", headers=h)).json()["error"][
        "code"
    ] == "quiz_not_launched"
    assert (await client.delete(f"/api/v1/sessions/{ann.session_id}/quizzes", headers=h)).status_code == 204
    assert (await client.get(f"{base}/{quiz['id']}/results", headers=h)).json() == []
    assert (await client.get(f"{base}/{quiz['id']}", headers=h)).status_code == 200  # the definition stays


async def test_import_and_template(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    room = await create_room(client, project)
    h = project.headers
    base = f"/api/v1/rooms/{room['id']}/quizzes"
    template = await client.get(f"{base}/template", headers=h)
    assert template.status_code == 200 and template.text.startswith("quiz,time_limit_minutes,question")
    imported = await client.post(
        f"{base}/import", files={"file": ("q.csv", template.content, "text/csv")}, headers=h
    )
    assert imported.status_code == 200, imported.text
    quiz = imported.json()["data"][0]
    assert imported.json()["imported"] == 1 and quiz["time_limit_minutes"] == 45
    assert [q["multiple"] for q in quiz["questions"]] == [False, True]
    assert [c["correct"] for c in quiz["questions"][1]["choices"]] == [True, False, True]

    bad = (
        "quiz,time_limit_minutes,question,multiple,correct,choice_1,choice_2\n"
        "Q,10,Fine?,false,1,Yes,No\n"
        "Q,abc,Limit?,false,1,Yes,No\n"
        "Q,,Two correct?,false,1;2,Yes,No\n"
        "Q,,Out of range?,false,3,Yes,No\n"
        ",,No title,false,1,Yes,No\n"
        "Q,20,Other limit?,false,1,Yes,No\n"
    )
    rejected = await client.post(
        f"{base}/import", files={"file": ("q.txt", bad.encode(), "text/plain")}, headers=h
    )
    assert rejected.status_code == 422 and rejected.json()["error"]["code"] == "invalid_rows"
    assert [d["line"] for d in rejected.json()["error"]["details"]] == [3, 4, 5, 6, 7]
    assert (await client.get(base, headers=h)).json()["total_count"] == 1
    big = await client.post(
        f"{base}/import", files={"file": ("q.csv", b"x" * (2 * 1024 * 1024 + 1), "text/csv")}, headers=h
    )
    assert big.json()["error"]["code"] == "file_too_large"
    assert (
        await client.post(f"{base}/import", files={"file": ("q.png", b"x", "image/png")}, headers=h)
    ).status_code == 422

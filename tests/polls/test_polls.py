"""Poll REST endpoints: drafts, validation, lifecycle, CSV import/template, deletes and isolation."""

from __future__ import annotations

import csv
import io

import httpx
from fastapi import FastAPI

from tests.content import join
from tests.factories import create_project, create_room

OPTIONS = [{"label": "API Design"}, {"label": "Security"}, {"label": "Performance"}]


async def test_create_list_and_validate(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    room = await create_room(client, project)
    h = project.headers
    base = f"/api/v1/rooms/{room['id']}/polls"
    given = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
    body = {
        "question": "Next topic?",
        "type": "single",
        "anonymous": True,
        "options": [{"id": given, "label": "A"}, {"label": "B"}],
    }
    created = await client.post(base, json=body, headers=h)
    assert created.status_code == 200, created.text
    poll = created.json()
    assert (poll["status"], poll["type"], poll["anonymous"]) == ("draft", "single", True)
    assert poll["options"][0] == {"id": given, "label": "A"} and len(poll["options"]) == 2
    again = await client.post(base, json=body, headers=h)
    assert again.status_code == 409 and again.json()["error"]["code"] == "option_id_taken"

    deprecated = await client.post(
        base, json={"question": "Days?", "multiple": True, "options": OPTIONS}, headers=h
    )
    assert deprecated.json()["type"] == "multiple"
    free = await client.post(base, json={"question": "Feedback?", "type": "free"}, headers=h)
    assert free.json()["type"] == "free" and free.json()["options"] == []
    for bad in (
        {"question": "", "options": OPTIONS},
        {"question": "q", "options": [{"label": "only one"}]},
        {"question": "q", "type": "free", "options": OPTIONS},
        {"question": "q", "type": "ranked", "options": OPTIONS},
        {"question": "q", "type": "single", "multiple": True, "options": OPTIONS},
        {"question": "q", "options": [{"label": ""}, {"label": "b"}]},
        {"question": "q", "options": [{"id": "nope", "label": "a"}, {"label": "b"}]},
        {"question": "q", "options": [{"id": given, "label": "a"}, {"id": given, "label": "b"}]},
        {"question": "q", "options": [{"label": str(n)} for n in range(51)]},
    ):
        response = await client.post(base, json=bad, headers=h)
        assert response.status_code == 422, bad

    listing = (await client.get(f"{base}?order=asc", headers=h)).json()
    assert listing["total_count"] == 3 and [p["question"] for p in listing["data"]] == [
        "Next topic?",
        "Days?",
        "Feedback?",
    ]
    page = (await client.get(f"{base}?order=asc&limit=1&offset=1", headers=h)).json()
    assert [p["question"] for p in page["data"]] == ["Days?"]
    after = (await client.get(f"{base}?after={free.json()['id']}", headers=h)).json()
    assert [p["question"] for p in after["data"]] == ["Days?", "Next topic?"]
    assert (await client.get(f"{base}?after=missing", headers=h)).status_code == 404
    assert (await client.get(f"{base}/{poll['id']}", headers=h)).json()["question"] == "Next topic?"

    other = await create_project(client)
    assert (await client.get(base, headers=other.headers)).status_code == 404
    other_room = await create_room(client, other)
    foreign = f"/api/v1/rooms/{other_room['id']}/polls/{poll['id']}"
    assert (await client.get(foreign, headers=other.headers)).status_code == 404
    assert (await client.delete(f"{base}/{poll['id']}", headers=h)).status_code == 204
    assert (await client.get(f"{base}/{poll['id']}", headers=h)).status_code == 404
    assert (await client.delete(base, headers=h)).status_code == 204
    assert (await client.get(base, headers=h)).json()["total_count"] == 0


async def test_lifecycle_over_rest(client: httpx.AsyncClient, app: FastAPI) -> None:
    project = await create_project(client)
    room = await create_room(client, project)
    h = project.headers
    base = f"/api/v1/rooms/{room['id']}/polls"
    poll = (await client.post(base, json={"question": "Q?", "options": OPTIONS}, headers=h)).json()
    refused = await client.post(f"{base}/{poll['id']}/launch", headers=h)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_live_session"
    assert (await client.post(f"{base}/{poll['id']}/end", headers=h)).json()["error"][
        "code"
    ] == "poll_not_launched"

    joined = await join(app, project, room["id"])
    launched = await client.post(f"{base}/{poll['id']}/launch", headers=h)
    assert launched.status_code == 200 and launched.json()["status"] == "launched"
    assert launched.json()["session_id"] == joined.session_id and launched.json()["launched_at"]
    assert (await client.post(f"{base}/{poll['id']}/launch", headers=h)).json()["error"][
        "code"
    ] == "poll_not_draft"
    ended = await client.post(f"{base}/{poll['id']}/end", headers=h)
    assert ended.status_code == 200
    results = ended.json()
    assert results["status"] == "ended" and results["voted"] == 0
    assert [o["voted"] for o in results["options"]] == [0, 0, 0]
    assert (await client.get(f"{base}/{poll['id']}/results", headers=h)).json() == results

    draft = (await client.post(base, json={"question": "Later", "type": "free"}, headers=h)).json()
    assert (await client.delete(f"/api/v1/sessions/{joined.session_id}/polls", headers=h)).status_code == 204
    remaining = (await client.get(base, headers=h)).json()
    assert [p["id"] for p in remaining["data"]] == [draft["id"]]  # drafts belong to no session
    assert (await client.delete("/api/v1/sessions/unknown/polls", headers=h)).status_code == 404


async def test_csv_import_and_template(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    room = await create_room(client, project)
    h = project.headers
    base = f"/api/v1/rooms/{room['id']}/polls"
    template = await client.get(f"{base}/template", headers=h)
    assert template.status_code == 200 and template.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(template.text)))
    assert rows[0][:3] == ["question", "type", "anonymous"]

    imported = await client.post(
        f"{base}/import", files={"file": ("polls.csv", template.content, "text/csv")}, headers=h
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["imported"] == 3
    assert [p["type"] for p in imported.json()["data"]] == ["single", "multiple", "free"]
    assert imported.json()["data"][1]["anonymous"] is True

    bad = (
        "question,type,anonymous,option_1,option_2\n"
        "Good?,single,false,Yes,No\n"
        "\n"
        ",single,false,Yes,No\n"
        "Ranked?,ranked,false,a,b\n"
        "One?,single,false,Only\n"
        "Free?,free,maybe,,\n"
        '"Multi\nline",free,true,,\n'
        "Free with options?,free,false,x,y\n"
    )
    rejected = await client.post(
        f"{base}/import", files={"file": ("p.txt", bad.encode(), "text/plain")}, headers=h
    )
    assert rejected.status_code == 422
    error = rejected.json()["error"]
    assert error["code"] == "invalid_rows"
    assert [d["line"] for d in error["details"]] == [4, 5, 6, 7, 10]
    assert "type must be" in error["details"][1]["message"]
    assert (await client.get(base, headers=h)).json()["total_count"] == 3  # nothing from the bad file

    too_big = b"q,single,false,a,b\n" * (2 * 1024 * 1024 // 19 + 2)
    large = await client.post(f"{base}/import", files={"file": ("p.csv", too_big, "text/csv")}, headers=h)
    assert large.status_code == 422 and large.json()["error"]["code"] == "file_too_large"
    pdf = await client.post(
        f"{base}/import", files={"file": ("p.pdf", b"%PDF", "application/pdf")}, headers=h
    )
    assert pdf.status_code == 422 and pdf.json()["error"]["code"] == "unsupported_file_type"
    binary = await client.post(
        f"{base}/import", files={"file": ("p.csv", b"\xff\xfe\x00", "text/csv")}, headers=h
    )
    assert binary.json()["error"]["code"] == "invalid_encoding"
    empty = await client.post(
        f"{base}/import", files={"file": ("p.csv", b"question,type\n", "text/csv")}, headers=h
    )
    assert empty.json()["error"]["code"] == "empty_import"
    assert (await client.post(f"{base}/import", headers=h)).status_code == 422

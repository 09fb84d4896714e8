"""In-meeting content over the real socket: polls, quizzes, Q&A and live captions, end to end."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.realtime.conftest import Api, Client, Server


async def _join(server: Server, api: Api, room: dict[str, Any], name: str, role: str = "attendee") -> Client:
    client = await Client.connect(
        server, f"token={await api.token(room['id'], u=name, ud=name.lower(), role=role)}"
    )
    assert (await client.join())["type"] == "joined"
    return client


async def _reply(client: Client, request_id: str) -> dict[str, Any]:
    while True:
        message = await client.recv()
        if message.get("reply_to") == request_id:
            return message


async def test_poll_and_quiz_with_real_participants(server: Server, api: Api) -> None:
    room = await api.room()
    mod = await _join(server, api, room, "Mod", "moderator")
    ann = await _join(server, api, room, "Ann")
    bob = await _join(server, api, room, "Bob")
    everyone = (mod, ann, bob)

    poll = (
        await api.post(
            f"/api/v1/rooms/{room['id']}/polls",
            {"question": "Topic?", "options": [{"label": "A"}, {"label": "B"}]},
        )
    ).json()
    await bob.send(type="poll_launch", poll_id=poll["id"], id="x")
    assert (await _reply(bob, "x"))["code"] == "not_allowed"
    await mod.send(type="poll_launch", poll_id=poll["id"], id="l")
    assert (await _reply(mod, "l"))["type"] == "ok"
    for client in (ann, bob):
        started = await client.expect("poll_started")
        assert started["poll"]["id"] == poll["id"] and started["poll"]["status"] == "launched"
    a, b = (o["id"] for o in poll["options"])
    await ann.send(type="poll_vote", poll_id=poll["id"], option_ids=[a], id="v1")
    assert (await _reply(ann, "v1"))["voted"] == 1
    await ann.send(type="poll_vote", poll_id=poll["id"], option_ids=[b], id="v2")
    assert (await _reply(ann, "v2"))["code"] == "already_voted"
    await bob.send(type="poll_vote", poll_id=poll["id"], option_ids=[a, b], id="v3")
    assert (await _reply(bob, "v3"))["code"] == "invalid_vote"  # single choice
    await bob.send(type="poll_vote", poll_id=poll["id"], option_ids=[b], id="v4")
    assert (await _reply(bob, "v4"))["counts"] == {a: 1, b: 1}
    update = await mod.expect("poll_updated")
    assert update["poll_id"] == poll["id"]
    await mod.send(type="poll_end", poll_id=poll["id"], id="e")
    assert (await _reply(mod, "e"))["results"]["voted"] == 2
    for client in (ann, bob):
        ended = await client.expect("poll_ended")
        assert [o["voted"] for o in ended["results"]["options"]] == [1, 1]
    results = await api.get(f"/api/v1/rooms/{room['id']}/polls/{poll['id']}/results")
    assert {v["name"] for o in results["options"] for v in o["voters"]} == {"Ann", "Bob"}
    await ann.send(type="poll_vote", poll_id=poll["id"], option_ids=[a], id="late")
    assert (await _reply(ann, "late"))["code"] == "poll_not_launched"

    questions = [
        {"text": "2+2?", "choices": [{"text": "4", "correct": True}, {"text": "5"}]},
        {
            "text": "Primes?",
            "multiple": True,
            "choices": [{"text": "2", "correct": True}, {"text": "4"}, {"text": "3", "correct": True}],
        },
    ]
    quiz = (
        await api.post(
            f"/api/v1/rooms/{room['id']}/quizzes",
            {"title": "Maths", "time_limit_minutes": 5, "questions": questions},
        )
    ).json()
    await mod.send(type="quiz_launch", quiz_id=quiz["id"], id="q")
    assert (await _reply(mod, "q"))["deadline"]
    shown = (await ann.expect("quiz_started"))["quiz"]
    assert all("correct" not in c for q in shown["questions"] for c in q["choices"])  # answers stay secret
    q1, q2 = quiz["questions"]
    await ann.send(
        type="quiz_answer",
        quiz_id=quiz["id"],
        question_id=q1["id"],
        choice_ids=[q1["choices"][0]["id"]],
        id="a1",
    )
    assert (await _reply(ann, "a1"))["type"] == "ok"
    await ann.send(
        type="quiz_answer",
        quiz_id=quiz["id"],
        question_id=q1["id"],
        choice_ids=[q1["choices"][1]["id"]],
        id="a2",
    )
    assert (await _reply(ann, "a2"))["code"] == "already_answered"
    primes = [q2["choices"][0]["id"], q2["choices"][2]["id"]]
    await bob.send(type="quiz_answer", quiz_id=quiz["id"], question_id=q2["id"], choice_ids=primes, id="a3")
    assert (await _reply(bob, "a3"))["type"] == "ok"
    await mod.send(type="quiz_end", quiz_id=quiz["id"], id="qe")
    await _reply(mod, "qe")
    ended_quiz = (await bob.expect("quiz_ended"))["results"]
    assert [q["voted"] for q in ended_quiz["questions"]] == [1, 1]
    stored = await api.get(f"/api/v1/rooms/{room['id']}/quizzes/{quiz['id']}/results")
    assert stored[0]["session_id"] == mod.joined["session_id"]
    assert stored[0]["questions"][1]["votes"][2]["voters"][0]["name"] == "Bob"

    # A one-second quiz: the server's deadline job ends it and later answers are refused.
    quick = (
        await api.post(
            f"/api/v1/rooms/{room['id']}/quizzes",
            {"title": "Quick", "time_limit_seconds": 1, "questions": questions[:1]},
        )
    ).json()
    await mod.send(type="quiz_launch", quiz_id=quick["id"], id="k")
    await _reply(mod, "k")
    while (await ann.expect("quiz_ended", within=15))["quiz_id"] != quick["id"]:
        pass  # the first quiz's end, still queued for Ann
    qq = quick["questions"][0]
    await ann.send(
        type="quiz_answer",
        quiz_id=quick["id"],
        question_id=qq["id"],
        choice_ids=[qq["choices"][0]["id"]],
        id="t",
    )
    assert (await _reply(ann, "t"))["code"] in ("quiz_time_over", "quiz_not_launched")
    for client in everyone:
        await client.send(type="leave")


async def test_qa_and_captions_live(server: Server, api: Api) -> None:
    room = await api.room(qa_enabled=True)
    mod = await _join(server, api, room, "Mod", "moderator")
    ann = await _join(server, api, room, "Ann")
    bob = await _join(server, api, room, "Bob")
    viewer = await _join(server, api, room, "Vic", "viewer")

    await ann.send(type="question", question="When is lunch?", anonymous=True, id="q")
    question_id = (await _reply(ann, "q"))["question_id"]
    asked = await bob.expect("qa_updated")
    assert asked["question"]["question"] == "When is lunch?" and asked["question"]["participant_name"] is None
    await bob.send(type="question_vote", question_id=question_id, id="v")
    assert (await _reply(bob, "v"))["votes"] == 1
    await bob.send(type="question_vote", question_id=question_id, id="v2")
    assert (await _reply(bob, "v2"))["code"] == "already_voted"
    await ann.send(type="answer", question_id=question_id, answer="Now", id="x")
    assert (await _reply(ann, "x"))["code"] == "not_allowed"
    await mod.send(type="answer", question_id=question_id, answer="At noon", private=True, id="p")
    await _reply(mod, "p")
    private = await ann.expect("qa_updated")
    while private.get("action") != "answer.created":
        private = await ann.expect("qa_updated")
    assert private["answer"]["answer"] == "At noon"
    await mod.send(type="question_moderate", question_id=question_id, action="dismiss", id="d")
    await _reply(mod, "d")
    # Bob saw the vote and the dismissal, never the private answer.
    seen = []
    while True:
        update = await bob.expect("qa_updated")
        seen.append(update["action"])
        if update.get("change") == "dismissed":
            break
    assert "answer.created" not in seen
    listing = await api.get(f"/api/v1/rooms/{room['id']}/questions")
    assert (
        listing["data"][0]["answers"][0]["private"] is True
        and listing["data"][0]["participant_name"] == "Ann"
    )

    await ann.send(type="caption", text="Hello every", final=False)
    interim = await bob.expect("caption")
    assert (interim["text"], interim["final"]) == ("Hello every", False)
    await ann.send(type="caption", text="Hello everyone.", id="c")
    assert (await _reply(ann, "c"))["type"] == "ok"
    final = await bob.expect("caption")
    assert (final["participant_name"], final["text"], final["final"]) == ("Ann", "Hello everyone.", True)
    await viewer.send(type="caption", text="I cannot speak", id="vc")
    assert (await _reply(viewer, "vc"))["code"] == "not_allowed"
    session_id = mod.joined["session_id"]
    stored = await api.get(f"/api/v1/sessions/{session_id}/transcripts")
    assert [s["transcript"] for s in stored["data"]] == ["Hello everyone."]

    await api.post(f"/api/v1/sessions/{session_id}/end")
    for _ in range(50):  # the embedded worker finalises the transcript and writes the summary
        summary = await api.get(f"/api/v1/sessions/{session_id}/summary")
        if summary["status"] == "READY":
            break
        await asyncio.sleep(0.2)
    assert summary == {"job_id": summary["job_id"], "status": "READY", "summary": "Hello everyone."}
    ready = await api.get(f"/api/v1/rooms/{room['id']}/events?type=transcript.ready")
    assert ready["total_count"] == 1


async def test_late_joiner_catches_up_on_questions_and_the_running_poll(server: Server, api: Api) -> None:
    room = await api.room(qa_enabled=True)
    mod = await Client.connect(server, f"token={await api.token(room['id'], u='Mod', role='moderator')}")
    await mod.join()
    await mod.send(type="question", question="Is the deck shared?", id="q")
    await mod.expect("qa_updated")
    created = await api.post(
        f"/api/v1/rooms/{room['id']}/polls",
        {"question": "Lunch?", "type": "single", "options": [{"label": "Yes"}, {"label": "No"}]},
    )
    assert created.status_code == 200, created.text
    await mod.send(type="poll_launch", poll_id=created.json()["id"], id="l")
    await mod.expect("poll_started")

    late = await Client.connect(server, f"token={await api.token(room['id'], u='Late')}")
    assert (await late.join())["type"] == "joined"
    question = await late.expect("qa_updated")
    assert question["question"]["question"] == "Is the deck shared?"
    poll = await late.expect("poll_started")
    assert poll["poll"]["question"] == "Lunch?"
    for client in (mod, late):
        await client.send(type="leave")

"""Q&A, polls and quizzes on the meeting page: a moderator and a participant in two real browser
pages against a real ``conclave serve`` (docs/meeting-page.md, docs/content.md)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.realtime.conftest import Api, Server
from tests.web.conftest import ARTIFACTS
from tests.web.test_meeting_page import join, open_panel, token_link

TEST_TIMEOUT = 150  # seconds: an upper bound on any one test, never an assertion about speed

# Controls in the panel and the stage card without an accessible name (aria-label, text, or label).
UNNAMED_CONTROLS = """() => [...document.querySelectorAll(
  '.panel :is(button, input, select, textarea), .live-card-layer :is(button, input, select, textarea)')]
  .filter((el) => !((el.getAttribute('aria-label') || '').trim() || el.textContent.trim()
    || (el.closest('label')?.textContent || '').trim()))
  .map((el) => el.outerHTML)"""


async def join_both(api: Api, new_page: Any, **room_fields: Any) -> tuple[dict[str, Any], Any, Any]:
    room = await api.room(**room_fields)
    mod = await new_page()
    guest = await new_page()
    await join(mod, await token_link(api, room["id"], u="Maria Host", role="moderator"))
    await join(guest, await token_link(api, room["id"], u="Gus Guest", role="attendee"))
    await mod.wait_for_selector(".tile[data-participant-name='Gus Guest']")
    return room, mod, guest


async def test_questions_votes_and_answers(web_server: Server, web_api: Api, new_page: Any) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room, mod, guest = await join_both(web_api, new_page, qa_enabled=True)
        assert await guest.get_attribute("#ctl-qa", "aria-label") == "Questions and answers"

        await open_panel(guest, "#ctl-qa")
        await guest.fill(".qa-input", "Will the slides be shared?")
        await guest.press(".qa-input", "Enter")
        mine = guest.locator(".question:has-text('Will the slides be shared?')")
        await mine.wait_for()
        assert await mine.locator(".meta strong").text_content() == "You"

        # The moderator, panel closed, gets an unread badge, then the question with its author.
        await mod.wait_for_selector("#ctl-qa .badge")
        await open_panel(mod, "#ctl-qa")
        question = mod.locator(".question:has-text('Will the slides be shared?')")
        await question.wait_for()
        assert await question.locator(".meta strong").text_content() == "Gus Guest"
        assert await mod.locator("#ctl-qa .badge").count() == 0

        # An anonymous question shows no author to others.
        await guest.fill(".qa-input", "Is there a recording?")
        await guest.check(".qa-anonymous")
        await guest.click(".qa-send")
        anonymous = mod.locator(".question:has-text('Is there a recording?')")
        await anonymous.wait_for()
        assert await anonymous.locator(".meta strong").text_content() == "Anonymous"

        # One vote per person, and a second click takes it back.
        vote = guest.locator(".question:has-text('Will the slides be shared?') button.vote")
        await vote.click()
        await question.locator(".vote-count:text-is('1')").wait_for()
        await vote.and_(guest.locator("[aria-pressed='true']")).wait_for()
        await question.locator("button.vote").click()
        await question.locator(".vote-count:text-is('2')").wait_for()
        await vote.click()
        await question.locator(".vote-count:text-is('1')").wait_for()
        await vote.and_(guest.locator("[aria-pressed='false']")).wait_for()

        # Sorting by votes puts the voted question first.
        await mod.select_option(".qa-sort", "votes")
        assert "Will the slides" in (await mod.locator(".question").first.text_content() or "")

        # The moderator answers in public, everyone sees it; the asker hears about it.
        await question.locator("button:text-is('Answer')").click()
        await mod.fill(".answer-input", "Yes, right after the meeting.")
        await mod.click(".answer-form button[type=submit]")
        await guest.wait_for_selector(".question .answer:has-text('Yes, right after the meeting.')")
        await question.locator(".answer:has-text('Yes, right after the meeting.')").wait_for()
        await anonymous.locator("button:text-is('Answer')").click()
        assert await mod.evaluate(UNNAMED_CONTROLS) == []
        await anonymous.locator("button:text-is('Cancel')").click()

        # A private answer reaches the asker only (shown to the moderator who wrote it, too).
        await anonymous.locator("button:text-is('Answer')").click()
        await mod.fill(".answer-input", "Only for you: yes.")
        await mod.check(".answer-form input[type=checkbox]")
        await mod.click(".answer-form button[type=submit]")
        await guest.wait_for_selector(".answer.is-private:has-text('Only for you: yes.')")
        await anonymous.locator(".answer.is-private").wait_for()

        # Dismiss and reopen.
        await question.locator("button:text-is('Dismiss')").click()
        await guest.wait_for_selector(".question.is-dismissed:has-text('Will the slides be shared?')")
        await question.locator("button:text-is('Reopen')").click()
        await guest.wait_for_selector(".question:not(.is-dismissed):has-text('Will the slides be shared?')")
        assert await guest.locator("button:text-is('Dismiss')").count() == 0  # attendees may not

        stored = await web_api.get(f"/api/v1/rooms/{room['id']}/questions")
        by_text = {q["question"]: q for q in stored["data"]}
        assert by_text["Will the slides be shared?"]["votes"] == 1
        assert len(by_text["Is there a recording?"]["answers"]) == 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await mod.screenshot(path=str(ARTIFACTS / "meeting-qa-moderator.png"))


async def test_poll_launched_voted_and_ended(web_server: Server, web_api: Api, new_page: Any) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room, mod, guest = await join_both(web_api, new_page)
        assert await guest.locator("#ctl-polls").count() == 0  # nothing to show yet
        response = await web_api.post(
            f"/api/v1/rooms/{room['id']}/polls",
            {"question": "Which colour?", "type": "single", "options": [{"label": "Red"}, {"label": "Blue"}]},
        )
        assert response.status_code == 200, response.text
        poll = response.json()
        blue = next(o["id"] for o in poll["options"] if o["label"] == "Blue")

        await open_panel(mod, "#ctl-polls")
        await mod.fill(".launch-id", "not-a-poll")
        await mod.click(".launch-button")
        await mod.wait_for_selector(".launch-form .error:not([hidden])")
        await mod.fill(".launch-id", poll["id"])
        await mod.click(".launch-button")
        await mod.wait_for_selector(f".content-card.poll[data-poll-id='{poll['id']}']")

        # Everyone gets the poll as a card on the stage.
        card = guest.locator(f".live-card-layer .content-card.poll[data-poll-id='{poll['id']}']")
        await card.wait_for()
        await guest.wait_for_selector("#ctl-polls .badge")
        await card.locator("button:text-is('Vote')").click()
        await card.locator(".error:has-text('Choose an answer first.')").wait_for()
        assert await guest.evaluate(UNNAMED_CONTROLS) == []
        assert await mod.evaluate(UNNAMED_CONTROLS) == []
        await card.locator("label.choice:has-text('Blue')").click()
        await card.locator("button:text-is('Vote')").click()
        await card.locator(".note:has-text('your vote was recorded')").wait_for()
        assert await card.locator("button:text-is('Vote')").count() == 0  # once

        # The moderator sees the live count, then ends the poll; the results reach everyone.
        mod_card = mod.locator(f".content-card.poll[data-poll-id='{poll['id']}']")
        await mod_card.locator(f".bar[data-option-id='{blue}'] .bar-count:text-is('1 · 100%')").wait_for()
        await mod_card.locator("button:text-is('End poll')").click()
        ended = guest.locator(f".live-card-layer .content-card.poll.is-ended[data-poll-id='{poll['id']}']")
        await ended.wait_for()
        assert await ended.locator(f".bar[data-option-id='{blue}'] .bar-count").text_content() == "1 · 100%"
        assert "Results" in (await ended.locator(".results").text_content() or "")
        await guest.screenshot(path=str(ARTIFACTS / "meeting-poll-results.png"))

        results = await web_api.get(f"/api/v1/rooms/{room['id']}/polls/{poll['id']}/results")
        assert results["voted"] == 1
        assert [o["voters"][0]["name"] for o in results["options"] if o["id"] == blue] == ["Gus Guest"]


async def test_quiz_answered_in_time(web_server: Server, web_api: Api, new_page: Any) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room, mod, guest = await join_both(web_api, new_page)
        # One window of five minutes per question: the second question is not open yet.
        response = await web_api.post(
            f"/api/v1/rooms/{room['id']}/quizzes",
            {
                "title": "Warm-up",
                "time_limit_seconds": 300,
                "timing_mode": "question",
                "questions": [
                    {"text": "2 + 2?", "choices": [{"text": "4", "correct": True}, {"text": "5"}]},
                    {
                        "text": "Capital of France?",
                        "choices": [{"text": "Paris", "correct": True}, {"text": "Rome"}],
                    },
                ],
            },
        )
        assert response.status_code == 200, response.text
        quiz = response.json()
        first, second = quiz["questions"]

        await open_panel(mod, "#ctl-polls")
        await mod.select_option(".launch-kind", "quiz")
        await mod.fill(".launch-id", quiz["id"])
        await mod.click(".launch-button")

        card = guest.locator(f".live-card-layer .content-card.quiz[data-quiz-id='{quiz['id']}']")
        await card.wait_for()
        countdown = card.locator(".countdown[role=timer]")
        assert "Question 1:" in (await countdown.text_content() or "")
        q1 = card.locator(f".quiz-question[data-question-id='{first['id']}']")
        await q1.locator("label.choice:has-text('4')").click()
        await q1.locator("button:text-is('Submit answer')").click()
        await q1.locator(".note:has-text('Answer recorded.')").wait_for()

        # The server refuses the question whose window has not opened, and the page says so.
        q2 = card.locator(f".quiz-question[data-question-id='{second['id']}']")
        await q2.locator("label.choice:has-text('Paris')").click()
        await q2.locator("button:text-is('Submit answer')").click()
        await q2.locator(".error:has-text('This question is not open right now.')").wait_for()

        mod_card = mod.locator(f".content-card.quiz[data-quiz-id='{quiz['id']}']")
        await mod_card.locator("button:text-is('End quiz')").click()
        ended = guest.locator(f".live-card-layer .content-card.quiz.is-ended[data-quiz-id='{quiz['id']}']")
        await ended.wait_for()
        result_q1 = ended.locator(f".quiz-question[data-question-id='{first['id']}']")
        assert await result_q1.locator(".note").text_content() == "You got it right."
        assert "1 chose this" in (await result_q1.locator(".choice.is-correct").text_content() or "")
        await mod.wait_for_selector(f".content-card.quiz.is-ended[data-quiz-id='{quiz['id']}']")
        await guest.screenshot(path=str(ARTIFACTS / "meeting-quiz-results.png"))

        results = await web_api.get(f"/api/v1/rooms/{room['id']}/quizzes/{quiz['id']}/results")
        runs = results if isinstance(results, list) else results.get("data", results)
        assert runs[0]["questions"][0]["voted"] == 1 and runs[0]["questions"][1]["voted"] == 0

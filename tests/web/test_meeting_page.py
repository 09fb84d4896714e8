"""The meeting page in a real browser (Debian's Chromium, fake camera and microphone) against a
real ``conclave serve`` whose Janus runs in a network namespace."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt

from tests.realtime.conftest import Api, Server, new_api
from tests.web.conftest import ARTIFACTS

TEST_TIMEOUT = 150  # seconds: an upper bound on any one test, never an assertion about speed

REMOTE_VIDEO = ".tile:not(.self)[data-participant-name={name!r}] video"


async def token_link(api: Api, room: str, **claims: Any) -> str:
    response = await api.post(f"/api/v1/rooms/{room}/token", claims)
    assert response.status_code == 200, response.text
    link: str = response.json()["link"]
    return link


async def join(page: Any, url: str, *, name: str | None = None) -> None:
    await page.goto(url)
    if name is not None:
        await page.fill("#join-name", name)
    await page.click("#join-button")
    await page.wait_for_selector(".room .tile.self")


async def expect_video_playing(page: Any, name: str) -> None:
    """The tile of ``name`` shows real frames: a size, and a clock that moves on."""
    selector = REMOTE_VIDEO.format(name=name)
    await page.wait_for_function(
        "(s) => { const v = document.querySelector(s); return !!v && v.videoWidth > 0 && v.currentTime > 0 }",
        arg=selector,
        timeout=45_000,
    )
    before = await page.eval_on_selector(selector, "v => v.currentTime")
    await page.wait_for_function(
        "([s, t]) => document.querySelector(s).currentTime > t", arg=[selector, before], timeout=20_000
    )


async def open_panel(page: Any, button: str) -> None:
    if await page.get_attribute(button, "aria-pressed") != "true":
        await page.click(button)


async def test_two_people_see_hear_and_chat(web_server: Server, web_api: Api, new_page: Any) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await web_api.room(friendly_url="two-people", name="Design review", privacy="public")
        ann = await new_page()
        bob = await new_page()
        # Ann opens the link of her token; Bob opens the public room and types his name.
        await join(ann, await token_link(web_api, room["id"], u="Ann Lee", role="moderator"))
        await join(bob, f"{web_server.base}/meet/two-people", name="Bob Stone")

        await expect_video_playing(ann, "Bob Stone")
        await expect_video_playing(bob, "Ann Lee")

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await ann.wait_for_timeout(500)  # let the layout settle for the picture (not an assertion)
        await ann.screenshot(path=str(ARTIFACTS / "meeting-two-people.png"))

        await open_panel(ann, "#ctl-chat")
        await ann.fill(".chat-input", "Hello Bob, can you see me?")
        await ann.press(".chat-input", "Enter")
        await open_panel(bob, "#ctl-chat")
        await bob.wait_for_selector(".messages li:has-text('Hello Bob, can you see me?')")
        assert await bob.text_content(".messages li strong") == "Ann Lee"

        await open_panel(ann, "#ctl-people")
        await ann.wait_for_selector(".person[data-participant-name='Bob Stone']")
        await bob.screenshot(path=str(ARTIFACTS / "meeting-two-people-chat.png"))
        await ann.screenshot(path=str(ARTIFACTS / "meeting-two-people-moderator.png"))

        # A raised hand and a reaction reach the other side.
        await bob.click("#ctl-hand")
        await ann.wait_for_selector(".tile[data-participant-name='Bob Stone'] .tile-hand:not([hidden])")
        await bob.click("#ctl-react")
        await bob.click(".popover .emoji >> nth=1")
        await ann.wait_for_selector(".reactions-layer .reaction")


async def test_reconnects_after_a_dropped_connection(web_server: Server, web_api: Api, new_page: Any) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await web_api.room()
        ann = await new_page()
        bob = await new_page()
        await join(ann, await token_link(web_api, room["id"], u="Ann"))
        await join(bob, await token_link(web_api, room["id"], u="Bob"))
        await expect_video_playing(bob, "Ann")
        first = await bob.evaluate("() => window.conclaveMeeting.self.id")

        await bob.evaluate("() => window.conclaveMeeting.signaling.drop()")
        resumed = "() => window.conclaveMeeting.trace.filter(t => t.endsWith('joined')).length >= 2"
        await bob.wait_for_function(resumed)
        # The same participant came back (resumed), not a new one.
        assert await bob.evaluate("() => window.conclaveMeeting.self.id") == first
        await expect_video_playing(bob, "Ann")
        assert await bob.is_hidden(".banner")


async def test_moderator_mutes_and_removes(web_server: Server, web_api: Api, new_page: Any) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await web_api.room(audio_on_join_enabled=True)
        mod = await new_page()
        guest = await new_page()
        await join(mod, await token_link(web_api, room["id"], u="Maria", role="moderator"))
        await join(guest, await token_link(web_api, room["id"], u="Gus", role="attendee"))
        assert await guest.get_attribute("#ctl-mic", "aria-pressed") == "false"

        await open_panel(mod, "#ctl-people")
        await mod.click("button[aria-label='Mute Gus']")
        await guest.wait_for_selector("#ctl-mic[aria-pressed='true']")
        await guest.wait_for_selector(".toast:has-text('A moderator muted your microphone.')")
        await mod.wait_for_selector(".person[data-participant-name='Gus'] .muted-icon")

        await mod.click("button[aria-label='Remove Gus']")
        await mod.click("dialog .btn.danger")
        await guest.wait_for_selector("[data-screen='kicked']")
        assert "removed" in (await guest.text_content("#status-title") or "")
        await mod.wait_for_selector(".person[data-participant-name='Gus']", state="detached")


async def test_viewer_has_no_publish_controls(web_server: Server, web_api: Api, new_page: Any) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await web_api.room()
        viewer = await new_page()
        await viewer.goto(await token_link(web_api, room["id"], u="Vera", role="viewer"))
        assert await viewer.locator(".preview").count() == 0
        await viewer.click("#join-button")
        await viewer.wait_for_selector(".room .tile.self")
        for control in ("#ctl-mic", "#ctl-camera", "#ctl-share"):
            assert await viewer.locator(control).count() == 0, control
        assert await viewer.locator("#ctl-chat").count() == 1
        assert await viewer.locator("#ctl-leave").count() == 1


async def test_join_screen_preview_and_choices(web_server: Server, web_api: Api, new_page: Any) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await web_api.room(video_on_join_enabled=True, audio_on_join_enabled=False)
        page = await new_page()
        await page.goto(await token_link(web_api, room["id"], u="Jo"))
        assert await page.input_value("#join-name") == "Jo"
        await page.wait_for_function(
            "() => { const v = document.querySelector('.preview video'); return v && v.videoWidth > 0; }"
        )
        assert await page.locator("#join-camera-select option").count() >= 1
        assert await page.locator("#join-mic-select option").count() >= 1
        assert await page.get_attribute("#join-mic", "aria-pressed") == "true"  # muted: the room's default
        await page.click("#join-camera")
        await page.wait_for_selector(".preview:not(.has-video)")
        await page.click("#join-mic")
        await page.wait_for_selector("#join-mic[aria-pressed='false']")
        await page.fill("#join-name", "Jo Park")
        await page.click("#join-button")
        await page.wait_for_selector(".room .tile.self[data-participant-name='Jo Park']")
        assert await page.get_attribute("#ctl-camera", "aria-pressed") == "true"
        assert await page.get_attribute("#ctl-mic", "aria-pressed") == "false"

        # Without a join screen the page goes straight in, with the room's initial devices.
        direct = await web_api.room(
            join_screen_enabled=False, video_on_join_enabled=False, audio_on_join_enabled=True
        )
        other = await new_page()
        await other.goto(await token_link(web_api, direct["id"], u="Direct"))
        await other.wait_for_selector(".room .tile.self[data-participant-name='Direct']")
        assert await other.locator("#join-button").count() == 0
        assert await other.get_attribute("#ctl-camera", "aria-pressed") == "true"
        assert await other.get_attribute("#ctl-mic", "aria-pressed") == "false"


async def test_waiting_room_admission(web_server: Server, web_api: Api, new_page: Any) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await web_api.room(is_locked=True)
        mod = await new_page()
        guest = await new_page()
        await join(mod, await token_link(web_api, room["id"], u="Host", role="moderator"))
        await guest.goto(await token_link(web_api, room["id"], u="Late Comer"))
        assert await guest.locator(".hint:has-text('locked')").count() == 1
        await guest.click("#join-button")
        await guest.wait_for_selector("[data-screen='waiting']")

        await mod.wait_for_selector(".toast:has-text('Late Comer is waiting to join')")
        await open_panel(mod, "#ctl-people")
        await mod.click("button[aria-label='Admit Late Comer']")
        await guest.wait_for_selector(".room .tile.self[data-participant-name='Late Comer']")
        await mod.wait_for_selector(".tile[data-participant-name='Late Comer']")


async def test_moderator_records_from_the_page(web_server: Server, web_api: Api, new_page: Any) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await web_api.room(recordings_enabled=True)
        mod = await new_page()
        guest = await new_page()
        await join(mod, await token_link(web_api, room["id"], u="Host", role="moderator"))
        await join(guest, await token_link(web_api, room["id"], u="Guest"))
        await open_panel(mod, "#ctl-people")
        await mod.click("button:has-text('Start recording')")
        for page in (mod, guest):  # everyone sees the indicator
            await page.wait_for_selector(".pill.rec")
        listing = await web_api.get(f"/api/v1/recordings?room={room['id']}")
        assert [r["status"] for r in listing["data"]] == ["in_progress"]
        assert await guest.locator("button:has-text('Start recording')").count() == 0  # attendees cannot
        await mod.click("button:has-text('Stop recording')")
        await guest.wait_for_selector(".pill.rec", state="detached")


async def test_translated_page(web_server: Server, web_api: Api, new_page: Any) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await web_api.room(default_language="de-DE")
        page = await new_page(locale="de-DE")
        await page.goto(await token_link(web_api, room["id"], u="Dora"))
        assert await page.get_attribute("html", "lang") == "de-DE"
        assert (await page.text_content("#join-button") or "").strip() == "Teilnehmen"
        await page.click("#join-button")
        await page.wait_for_selector(".room .tile.self")
        assert await page.get_attribute("#ctl-leave", "aria-label") == "Verlassen"
        assert await page.get_attribute("#ctl-people", "aria-label") == "Teilnehmende"


async def test_expired_token_shows_the_error_page(web_server: Server, web_api: Api, new_page: Any) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await web_api.room(friendly_url="expired-link")
        # The API refuses to issue a token that is already expired; sign one as a backend would.
        secret = web_api.headers["Authorization"].removeprefix("Bearer ")
        now = int(time.time())
        claims = {"room_id": room["id"], "u": "Late", "nbf": now - 7200, "exp": now - 3600, "jti": "old"}
        link = f"{web_server.base}/meet/expired-link?token={jwt.encode(claims, secret, algorithm='HS256')}"
        page = await new_page()
        response = await page.goto(link)
        assert response is not None and response.status == 401
        assert await page.text_content("h1") == "This link has expired"
        assert await page.get_attribute(".card", "data-error") == "token_expired"
        await page.screenshot(path=str(ARTIFACTS / "meeting-expired-link.png"))


async def test_error_pages_without_a_browser(web_server: Server, web_api: Api) -> None:
    """Wrong links get a clear page with the right status, in the room's language when known."""
    async with asyncio.timeout(TEST_TIMEOUT), httpx.AsyncClient(base_url=web_server.base, timeout=15) as http:
        private = await web_api.room(friendly_url="private-one", privacy="private", default_language="es-ES")
        response = await http.get("/meet/private-one")
        assert response.status_code == 403
        assert "Esta reunión es privada" in response.text and 'lang="es-ES"' in response.text

        response = await http.get("/meet/private-one?token=not-a-token")
        assert response.status_code == 401 and "Este enlace no es válido" in response.text

        response = await http.get("/meet/no-such-room", headers={"Accept-Language": "de-DE,de;q=0.9"})
        assert response.status_code == 404 and "Besprechung nicht gefunden" in response.text

        await web_api.room(friendly_url="later", scheduled_start_at="2999-01-01T10:00:00Z")
        response = await http.get("/meet/later")
        assert response.status_code == 409
        assert "has not started yet" in response.text and "2999-01-01 10:00 UTC" in response.text

        # friendly_urls are unique per project only: a bare ref two projects share is ambiguous.
        await web_api.room(friendly_url="shared-name")
        async for other in new_api(web_server):
            shared = await other.room(friendly_url="shared-name")
            response = await http.get("/meet/shared-name")
            assert response.status_code == 409 and "Please use the full link" in response.text
            response = await http.get(f"/meet/{shared['id']}")
            assert response.status_code == 200 and 'id="conclave-config"' in response.text
            link = await token_link(other, shared["id"], u="Ok")
            response = await http.get(link.removeprefix(web_server.base))
            assert response.status_code == 200
        assert private["privacy"] == "private"

        response = await http.get("/meet/static/js/main.js")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/javascript")
        assert (await http.get("/meet/static/../endpoints.py")).status_code == 404
        assert (await http.get("/meet/static/%2e%2e/endpoints.py")).status_code == 404


def test_static_files_load_nothing_from_the_internet() -> None:
    from conclave.web.service import STATIC_DIR

    for path in STATIC_DIR.rglob("*"):
        if path.suffix in {".js", ".css", ".html"}:
            text = path.read_text(encoding="utf-8")
            assert "http://" not in text and "https://" not in text and "//cdn" not in text, path

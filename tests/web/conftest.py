"""A real ``conclave serve`` (with its Janus in a network namespace) driven by Debian's Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import missing_component
from tests.realtime.conftest import Api, Server, make_server, new_api

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]
ACTION_TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    running = make_server(tmp_path_factory.mktemp("web"))
    running.start()
    yield running
    running.stop()


@pytest.fixture
async def web_api(web_server: Server) -> AsyncIterator[Api]:
    async for value in new_api(web_server):
        yield value


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists():  # noqa: ASYNC240 - one stat before anything starts
        missing_component("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        missing_component("playwright is not installed (pip install playwright)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def new_page(browser: Any) -> AsyncIterator[Any]:
    """Open pages in fresh browser contexts (separate people); all are closed after the test."""
    contexts: list[Any] = []

    async def open_page(*, locale: str = "en-US", width: int = 1280, height: int = 800) -> Any:
        context = await browser.new_context(
            locale=locale,
            viewport={"width": width, "height": height},
            permissions=["camera", "microphone"],
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        page = await context.new_page()
        page.on("console", lambda message: print(f"[browser {message.type}] {message.text}"))
        page.on("pageerror", lambda error: print(f"[page error] {error}"))
        return page

    yield open_page
    for context in contexts:
        await context.close()

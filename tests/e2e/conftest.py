"""The browser fixtures of the e2e tier: Debian's Chromium driven by Playwright, and pages of the
web UI served by the live platform (API + worker + bundled model) at a chosen look.

A test asks for `page` (1280 px, light) or parametrizes it indirectly with looks:

    @pytest.mark.parametrize("page", LOOKS, indirect=True, ids=str)
    def test_something(page: Page) -> None: ...

Every page fails its test on any script error it raised. Helpers that read pages (rows, axe
checks, screenshots) are in `tests.e2e.pages`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.pages import CHROMIUM, CHROMIUM_ARGS, DEFAULT_LOOK, Look
from tests.support.platform import Platform


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (`make test` installs Debian's chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def web_ui(live_platform: Platform) -> Platform:
    """The live platform, checked to serve the built web UI."""
    index = httpx.get(f"{live_platform.base_url}/", timeout=10)
    if index.status_code != 200 or '<div id="root">' not in index.text:
        pytest.fail("the API does not serve the web UI; build it first (`make web`)")
    return live_platform


class Pages:
    """Opens pages of the web UI at a look, on the live platform or another one, and closes
    them at the end of the test, failing it on any script error a page raised."""

    def __init__(self, browser: Browser, platform: Platform) -> None:
        self.browser = browser
        self.platform = platform
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []

    def open(self, look: Look = DEFAULT_LOOK, platform: Platform | None = None) -> Page:
        """A fresh browser context (no storage kept) on the web UI."""
        context = self.browser.new_context(
            base_url=(platform or self.platform).base_url,
            viewport={"width": look.width, "height": look.height},
            color_scheme=look.theme,
            is_mobile=look.phone,
            has_touch=look.phone,
            accept_downloads=True,
        )
        context.set_default_timeout(30_000)
        self.contexts.append(context)
        opened = context.new_page()
        opened.on("pageerror", lambda error: self.errors.append(str(error)))
        return opened

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Browser, web_ui: Platform) -> Iterator[Pages]:
    opened = Pages(browser, web_ui)
    try:
        yield opened
    finally:
        opened.close()
    assert opened.errors == [], f"the page raised errors: {opened.errors}"


@pytest.fixture
def page(request: pytest.FixtureRequest, pages: Pages) -> Page:
    """A page on the live platform at `request.param`'s look (default: 1280 px, light)."""
    look: Look = getattr(request, "param", DEFAULT_LOOK)
    return pages.open(look)

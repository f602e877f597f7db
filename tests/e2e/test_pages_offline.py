"""The pages the API serves work in a real browser with no network beyond the API, under their
Content-Security-Policy: the web UI, the Swagger UI at /docs and ReDoc at /redoc."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.support.platform import Platform

pytestmark = pytest.mark.e2e


class Offline:
    """A page whose requests to anything but the API are refused and recorded, and whose
    Content-Security-Policy violations and script errors are recorded."""

    def __init__(self, browser: Browser, platform: Platform) -> None:
        self.context = browser.new_context(base_url=platform.base_url)
        self.context.set_default_timeout(30_000)
        self.api = urlsplit(platform.base_url).netloc
        self.outside: list[str] = []
        self.problems: list[str] = []
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.page.on("console", self._console)

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == self.api:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def _console(self, message: object) -> None:
        text = str(getattr(message, "text", ""))
        if "Content Security Policy" in text or "Refused to" in text:
            self.problems.append(text)


@pytest.fixture
def offline(browser: Browser, live_platform: Platform) -> Iterator[Offline]:
    recorder = Offline(browser, live_platform)
    try:
        yield recorder
    finally:
        recorder.context.close()
    assert recorder.outside == [], f"the page reached beyond the API: {recorder.outside}"
    assert recorder.problems == [], f"policy violations or errors: {recorder.problems}"


def test_swagger_ui_works_offline(offline: Offline) -> None:
    offline.page.goto("/docs")
    expect(offline.page.locator(".opblock").first).to_be_visible()
    expect(offline.page.get_by_text("/api/transcriptions", exact=True).first).to_be_visible()


def test_redoc_works_offline(offline: Offline) -> None:
    offline.page.goto("/redoc")
    expect(offline.page.get_by_text("/api/transcriptions", exact=False).first).to_be_attached()
    expect(offline.page.locator("h1").first).to_contain_text("SoundScripter")
    # ReDoc's "API docs by Redocly" badge points at its CDN: the policy keeps it from loading.
    badge = [p for p in offline.problems if "cdn.redoc.ly" in p and "img-src" in p]
    offline.problems = [p for p in offline.problems if p not in badge]


def test_web_ui_runs_under_its_policy(offline: Offline) -> None:
    response = offline.page.goto("/")
    assert response is not None
    assert "default-src 'self'" in response.headers["content-security-policy"]
    expect(offline.page.locator("#root > *").first).to_be_visible()

"""What the e2e tests read from pages of the web UI: looks (viewport and theme), upload rows,
accessibility checks with axe-core, screenshots.

Screenshots are taken on every run (so a broken page still fails) but replace the committed
ones in docs/screenshots/ only with UPDATE_SCREENSHOTS=1 (`make screenshots`): a test run
leaves the work tree clean.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Locator, Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE_SCRIPT = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/__e2e__/axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TRANSCRIBE_TIMEOUT_MS = 240_000


@dataclass(frozen=True)
class Look:
    """A browser window: its size and the colour scheme the system asks for."""

    width: int
    height: int
    theme: Literal["light", "dark"] = "light"

    @property
    def phone(self) -> bool:
        return self.width < 600

    def __str__(self) -> str:
        return f"{self.width}px-{self.theme}"


DEFAULT_LOOK = Look(1280, 860)
WIDE_LIGHT = Look(1400, 900, "light")
WIDE_DARK = Look(1400, 900, "dark")
PHONE_LIGHT = Look(390, 844, "light")
PHONE_DARK = Look(390, 844, "dark")
LOOKS = [WIDE_LIGHT, WIDE_DARK, PHONE_LIGHT, PHONE_DARK]
"""The looks every view is checked at: 1400 px and a 390 px phone, light and dark."""

BLOCKING_IMPACTS = ("serious", "critical")

# Runs axe-core on the page (or within `selector`) and returns its violations in short.
_AXE_RUN = """
async (selector) => {
  const result = await window.axe.run(selector ? document.querySelector(selector) : document, {
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(" "), why: n.failureSummary })),
  }));
}
"""


def axe_violations(page: Page, selector: str | None = None) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (every impact)."""
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} is missing: `make web` installs web/node_modules")
    if not page.evaluate("typeof window.axe === 'object'"):
        # Served from the page's own origin (answered here, never reaching the API), so the
        # UI's Content-Security-Policy stays in force and still allows it.
        page.route(AXE_URL, lambda route: route.fulfill(path=AXE_SCRIPT))
        page.add_script_tag(url=AXE_URL)
    return list(page.evaluate(_AXE_RUN, selector))


def assert_accessible(page: Page, where: str, selector: str | None = None) -> None:
    """Fails on any serious or critical axe-core violation; `where` names the state checked."""
    blocking = [v for v in axe_violations(page, selector) if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core, {where}:\n{json.dumps(blocking, indent=2)}"


def screenshot(page: Page, name: str, full_page: bool = True) -> None:
    if full_page:  # from the top, so a sticky header is drawn where it belongs
        page.evaluate("window.scrollTo(0, 0)")
    image = page.screenshot(full_page=full_page)
    assert image.startswith(b"\x89PNG"), name
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / name).write_bytes(image)


def upload_row(page: Page, filename: str) -> Locator:
    return page.locator("li.upload-row").filter(has=page.get_by_text(filename, exact=True))


def job_id_of(row: Locator) -> str:
    href = row.locator("a.upload-row__name").get_attribute("href") or ""
    match = re.fullmatch(r"/transcriptions/([0-9a-f-]{36})", href)
    assert match, f"no transcript link in the row: {href!r}"
    return match.group(1)


def open_fresh(page: Page, path: str = "/") -> None:
    """Opens `path` with nothing remembered from earlier visits (uploads, options)."""
    page.goto(path)
    page.evaluate("localStorage.clear()")
    page.reload()

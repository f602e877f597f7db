"""The library as a work list, in a real browser against the live platform: the total count,
sorting by a column, filters by status, model and language, rows told apart by size and
model, and actions on the chosen rows (a zip of their transcripts, retry, delete), checked
with axe-core at 1400 px and on a 390 px phone, in light and dark."""

from __future__ import annotations

import io
import re
import secrets
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.pages import LOOKS, PHONE_LIGHT, assert_accessible, screenshot
from tests.support.platform import Platform

pytestmark = pytest.mark.e2e

SHORT = "A short note about the weekly plan."
LONGER = "A longer note about the weekly plan, the budget, and who calls the supplier on Monday."


class Library:
    """Three completed transcriptions named for this test: two share a file name."""

    def __init__(self, platform: Platform, speech_file: Any, folder: Path) -> None:
        self.tag = secrets.token_hex(3)
        same = f"notes-{self.tag}.wav"
        short = speech_file(SHORT, name=f"short-{self.tag}")
        longer = speech_file(LONGER, name=f"longer-{self.tag}")
        (folder / "a").mkdir()
        (folder / "b").mkdir()
        first = folder / "a" / same
        second = folder / "b" / same
        first.write_bytes(short.read_bytes())
        second.write_bytes(longer.read_bytes())
        other = folder / f"agenda-{self.tag}.wav"
        other.write_bytes(short.read_bytes())
        self.ids: dict[str, str] = {}
        for key, path in (("short", first), ("longer", second), ("agenda", other)):
            answer = platform.upload(path)
            assert answer.status_code == 202, answer.text
            self.ids[key] = answer.json()["items"][0]["id"]
        self.jobs = {key: platform.wait_status(job, {"completed"}) for key, job in self.ids.items()}


@pytest.fixture
def library(web_ui: Platform, speech_file: Any, tmp_path: Path) -> Library:
    return Library(web_ui, speech_file, tmp_path)


def rows(page: Page) -> Locator:
    return page.locator("table.library__table tbody tr")


def listed_ids(page: Page) -> list[str]:
    return list(rows(page).evaluate_all("rs => rs.map(r => r.dataset.id)"))


def open_library(page: Page, library: Library) -> None:
    page.goto(f"/library?q={library.tag}")
    expect(page.get_by_role("heading", name="Library", exact=True)).to_be_visible()
    expect(rows(page)).to_have_count(3)


def test_sort_filter_count_and_tell_apart(page: Page, library: Library) -> None:
    open_library(page, library)
    expect(page.get_by_test_id("library-total")).to_have_text("3 transcriptions match")
    ids = library.ids
    # Newest first by default; the same-named files differ by size (and show their model).
    assert listed_ids(page) == [ids["agenda"], ids["longer"], ids["short"]]
    for key in ("short", "longer"):
        row = page.locator(f"tr[data-id='{ids[key]}']")
        expect(row.locator(".library__meta")).to_contain_text(library.jobs[key]["model"])
    meta = [page.locator(f"tr[data-id='{ids[k]}'] .library__meta").inner_text() for k in ids]
    assert meta[0] != meta[1], meta  # same name, told apart

    by_duration = sorted(ids, key=lambda k: (library.jobs[k]["duration_seconds"], k))
    page.get_by_role("button", name="Duration").click()
    expect(page).to_have_url(re.compile(r"sort=duration"))
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Duration")
    expect(rows(page).first).to_have_attribute("data-id", ids[by_duration[-1]])
    page.get_by_role("button", name="Duration").click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Duration")
    expect(rows(page).last).to_have_attribute("data-id", ids[by_duration[-1]])

    page.get_by_role("button", name="File").click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("File")
    expect(rows(page).first).to_have_attribute("data-id", ids["agenda"])

    filters = page.get_by_role("search", name="Filter transcriptions")
    filters.get_by_label("Status").select_option("completed")
    filters.get_by_label("Model").select_option("tiny.en")
    filters.get_by_label("Language").select_option("en")
    expect(page.get_by_test_id("library-total")).to_have_text("3 transcriptions match")
    filters.get_by_label("Language").select_option("de")
    expect(page.get_by_text("No transcriptions match")).to_be_visible()


def test_bulk_download_retry_and_delete(page: Page, web_ui: Platform, library: Library) -> None:
    open_library(page, library)
    ids = library.ids
    page.get_by_label(f"Select agenda-{library.tag}.wav").check()
    page.locator(f"tr[data-id='{ids['short']}']").get_by_role("checkbox").check()
    bar = page.get_by_role("region", name="Selected transcriptions")
    expect(bar).to_contain_text("2 selected")
    screenshot(page, "library-bulk.png")
    assert_accessible(page, "the library with two rows chosen")

    bar.get_by_label("Download format").select_option("srt")
    with page.expect_download() as download_info:
        bar.get_by_role("link", name="Download zip").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    with web_ui.client() as client:
        expected = {
            client.get(f"/api/transcriptions/{ids[k]}/transcript", params={"format": "srt"}).text
            for k in ("agenda", "short")
        }
    assert len(archive.namelist()) == 2, archive.namelist()
    assert all(name.endswith(".srt") for name in archive.namelist()), archive.namelist()
    assert {archive.read(name).decode("utf-8") for name in archive.namelist()} == expected

    bar.get_by_role("button", name="Cancel jobs").click()  # completed jobs: nothing to cancel
    expect(page.locator(".library__outcome")).to_contain_text("0 cancelled; 2 not")

    bar.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("alertdialog", name="Delete 2 transcriptions?")
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator(".library__outcome")).to_have_text("2 deleted.")
    expect(rows(page)).to_have_count(1)
    expect(page.get_by_test_id("library-total")).to_have_text("1 transcription matches")
    with web_ui.client() as client:
        for key in ("agenda", "short"):
            assert client.get(f"/api/transcriptions/{ids[key]}").status_code == 404


@pytest.mark.parametrize("page", LOOKS, indirect=True, ids=str)
def test_library_is_accessible(page: Page, library: Library) -> None:
    open_library(page, library)
    assert_accessible(page, "the library")
    page.locator(f"tr[data-id='{library.ids['longer']}']").get_by_role("checkbox").check()
    expect(page.get_by_role("region", name="Selected transcriptions")).to_be_visible()
    assert_accessible(page, "the library with a row chosen")
    dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    phone = (page.viewport_size or {}).get("width") == PHONE_LIGHT.width
    if phone and not dark:
        screenshot(page, "library-phone.png")
    if phone:  # the headers are hidden: the order is picked from a list
        page.get_by_label("Order").select_option(label="Shortest first")
        expect(page).to_have_url(re.compile(r"sort=duration&order=asc"))
        expect(rows(page).last).to_have_attribute("data-id", library.ids["longer"])

"""Correcting a transcript in the web UI, in a real browser against the live platform: two
segments fixed in place and a speaker renamed, then the edit seen everywhere the transcript is
read (the view after a reload, the SRT download, text search, the OpenAI-compatible `text`
answer) while the recognition stays retrievable; and the editor's accessibility at 1400 px and
on a 390 px phone, light and dark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Pages
from tests.e2e.pages import LOOKS, WIDE_LIGHT, assert_accessible, screenshot
from tests.support.platform import Platform

pytestmark = pytest.mark.e2e

FORECAST = (
    "Good evening. Here is the weather forecast for the coming days. "
    "Tomorrow morning will be cloudy with light rain in the north. "
    "In the afternoon the sun returns and temperatures rise to twenty degrees."
)
FIRST = "Good evening from the Zanzibar weather desk."
SECOND = "Here is the quixotic forecast for the coming days."


def transcribe(platform: Platform, recording: Path, **fields: str) -> dict[str, Any]:
    response = platform.upload(recording, **fields)
    assert response.status_code == 202, response.text
    job = platform.wait_status(response.json()["items"][0]["id"], timeout=240)
    assert job["status"] == "completed", job["error"]
    assert len(job["segments"]) >= 3, job["segments"]
    return job


def download(page: Page, link: str) -> str:
    with page.expect_download() as info:
        page.get_by_role("link", name=link, exact=True).click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def edit_line(page: Page, position: int, text: str) -> None:
    """Types `text` over the line at `position` and saves it with Enter."""
    field = page.locator("textarea.segment-edit__field").nth(position)
    expect(field).to_be_focused()
    field.fill(text)
    field.press("Enter")
    expect(page.locator("textarea.segment-edit__field").nth(position + 1)).to_be_focused()
    expect(field).to_have_value(text)


def open_and_edit_two_lines(page: Page, job: dict[str, Any], filename: str) -> None:
    page.goto(f"/transcriptions/{job['id']}")
    expect(page.get_by_role("heading", name=filename, exact=True)).to_be_visible()
    expect(page.locator(".transcript__edited")).to_have_count(0)
    page.get_by_role("button", name="Edit text").click()
    edit_line(page, 0, FIRST)
    edit_line(page, 1, SECOND)
    expect(page.get_by_role("button", name="Undo last edit")).to_be_visible()


def test_two_lines_fixed_and_a_speaker_renamed_show_everywhere_and_the_original_stays(
    pages: Pages, live_platform: Platform, speech_file: Any
) -> None:
    recording = speech_file(FORECAST, name="editing-forecast")
    job = transcribe(live_platform, recording, speakers="2")
    job_id = job["id"]
    speaker = job["segments"][0]["speaker"]
    assert speaker, job["segments"][0]
    with live_platform.client() as client:
        recognised_srt = client.get(
            f"/api/transcriptions/{job_id}/transcript", params={"format": "srt"}
        ).text

    page = pages.open(WIDE_LIGHT)
    open_and_edit_two_lines(page, job, recording.name)
    assert_accessible(page, "the editor, two lines saved")
    screenshot(page, "editor.png", full_page=False)
    page.get_by_role("button", name="Done editing").click()

    speakers = page.get_by_role("region", name="Speakers")
    speakers.get_by_role("button", name=f"Rename {speaker}").click()
    speakers.get_by_role("textbox", name=f"Name of speaker {speaker}").fill("Forecaster")
    speakers.get_by_role("textbox", name=f"Name of speaker {speaker}").press("Enter")
    expect(speakers.get_by_role("button", name="Rename Forecaster")).to_be_visible()

    page.reload()
    rows = page.locator("button.segment")
    expect(rows.nth(0)).to_contain_text(FIRST)
    expect(rows.nth(1)).to_contain_text(SECOND)
    expect(rows.nth(0).locator(".speaker")).to_have_text("Forecaster")
    expect(page.locator(".transcript__edited")).to_contain_text("Edited")

    srt = download(page, "SRT transcript")
    flat = " ".join(srt.split())
    assert "Zanzibar weather desk" in flat, srt
    assert "quixotic forecast" in flat, srt
    assert "Forecaster:" in srt, srt
    with live_platform.client() as client:
        found = client.get("/api/transcriptions", params={"text": "Zanzibar"}).json()["items"]
        assert job_id in [item["id"] for item in found]
        revisions = client.get(f"/api/transcriptions/{job_id}/revisions").json()["items"]
        assert [r["revision"] for r in revisions] == list(range(len(revisions))), revisions
        assert len(revisions) >= 3, revisions  # the recognition, two lines, the rename

    original = download(page, "SRT as recognised")
    assert original == recognised_srt
    assert "Zanzibar" not in original
    assert "Forecaster" not in original

    # The OpenAI-compatible answer for the same file and options is the edited transcript (an
    # upload identical to a completed one is completed from it). OpenAI requests carry no
    # speaker option, so this is the same recording transcribed without speakers, edited alike.
    plain = transcribe(live_platform, recording)
    open_and_edit_two_lines(page, plain, recording.name)
    with live_platform.client() as client:
        answer = client.post(
            "/v1/audio/transcriptions",
            files={"file": (recording.name, recording.read_bytes())},
            data={"model": "tiny.en", "response_format": "text"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.text.startswith(f"{FIRST} {SECOND} "), answer.text
    assert live_platform.get(answer.headers["x-transcription-id"])["reused_from"] == plain["id"]


@pytest.fixture(scope="module")
def short_job(live_platform: Platform, speech_file: Any) -> dict[str, Any]:
    return transcribe(live_platform, speech_file(FORECAST, name="editing-looks"))


@pytest.mark.parametrize("page", LOOKS, indirect=True, ids=str)
def test_the_editor_is_accessible_and_keyboard_driven(
    page: Page, short_job: dict[str, Any]
) -> None:
    page.goto(f"/transcriptions/{short_job['id']}")
    edit = page.get_by_role("button", name="Edit text")
    edit.focus()
    page.keyboard.press("Enter")
    fields = page.locator("textarea.segment-edit__field")
    expect(fields).to_have_count(len(short_job["segments"]))
    expect(fields.first).to_be_focused()
    assert_accessible(page, "the editor open")

    third = fields.nth(2)
    before = third.input_value()
    third.focus()
    page.keyboard.press("End")
    page.keyboard.type(" Checked.")
    page.keyboard.press("Escape")
    expect(third).to_have_value(before)
    page.keyboard.type(" Checked.")
    page.keyboard.press("Shift+Enter")
    expect(fields.nth(1)).to_be_focused()
    expect(third).to_have_value(f"{before} Checked.")
    expect(page.locator(".transcript__edited")).to_contain_text("Edited")
    assert_accessible(page, "a line saved, the transcript edited")

    page.get_by_role("button", name="Undo last edit").click()
    expect(third).to_have_value(before)
    page.get_by_role("button", name="Done editing").click()
    expect(page.locator("button.segment").nth(2)).to_contain_text(before)
    assert_accessible(page, "the edit undone, the editor closed")

"""The web UI in a real browser against the real platform (API + worker + bundled model).

One journey through the three views: upload three files at once (one is not media), watch the
two recordings being transcribed live, find one in the library, play it from a segment,
download its SRT, delete it. Screenshots of the three views are taken on every run; they
replace docs/screenshots/ only with UPDATE_SCREENSHOTS=1, so a test run leaves the tree clean.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import TRANSCRIBE_TIMEOUT_MS, job_id_of, screenshot, upload_row
from tests.support.media import concat
from tests.support.platform import Platform

pytestmark = pytest.mark.e2e


FORECAST = (
    "Good evening. Here is the weather forecast for the coming days. "
    "Tomorrow morning will be cloudy with light rain in the north. "
    "In the afternoon the sun returns and temperatures rise to twenty degrees. "
    "On Thursday a strong wind arrives from the west, bringing showers to the coast. "
    "The weekend looks dry and warm, a good time for a walk in the park. "
    "That was the forecast, thank you for listening."
)
STANDUP = (
    "Welcome to the team meeting. First, the release is on track for next week. "
    "The testing team found two small problems in the upload page, and both are fixed. "
    "Second, the new search feature is ready for review. "
    "Please read the notes before Friday and send your questions to the project channel. "
    "Finally, remember that the office is closed on Monday. See you all next time."
)

# Records every value the transcription progress bars and status badges take, as the page
# renders them, so a test can tell that progress rose rather than jumped straight to the end.
RECORDER = """
() => {
  window.__progress = {};
  window.__statuses = {};
  const note = (element) => {
    const label = element.getAttribute("aria-label") || "";
    if (label.startsWith("Transcription progress of ")) {
      const name = label.slice("Transcription progress of ".length);
      const value = element.getAttribute("aria-valuenow");
      const list = (window.__progress[name] = window.__progress[name] || []);
      if (value !== null) list.push(Number(value));
    }
    if (element.classList && element.classList.contains("upload-row") && element.dataset.status) {
      const name = element.querySelector(".upload-row__name")?.textContent || "";
      const list = (window.__statuses[name] = window.__statuses[name] || []);
      if (list[list.length - 1] !== element.dataset.status) list.push(element.dataset.status);
    }
  };
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      if (mutation.type === "attributes") note(mutation.target);
      for (const node of mutation.addedNodes || []) {
        if (node.nodeType !== 1) continue;
        note(node);
        node.querySelectorAll("[role=progressbar], .upload-row").forEach(note);
      }
    }
  }).observe(document.body, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["aria-valuenow", "data-status"],
  });
}
"""


def parse_srt(body: str) -> list[tuple[str, str, str]]:
    """(start, end, text) per cue."""
    cues = []
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = block.strip().splitlines()
        assert len(lines) >= 3, f"incomplete SRT cue: {block!r}"
        assert lines[0].strip().isdigit(), f"cue number expected: {lines[0]!r}"
        times = re.fullmatch(
            r"(\d{2}:\d{2}:\d{2},\d{3}) --> (\d{2}:\d{2}:\d{2},\d{3})", lines[1].strip()
        )
        assert times, f"cue times expected: {lines[1]!r}"
        cues.append((times.group(1), times.group(2), " ".join(lines[2:]).strip()))
    return cues


class Files:
    """The three files of the journey, named uniquely for this run. Each recording is its text
    spoken three times (over a minute): more than one batch of 30 s chunks, so its text arrives
    in more than one step and the progress bar has something to show between 0 and 100."""

    def __init__(self, speech_file: Any, folder: Path) -> None:
        self.tag = secrets.token_hex(3)
        self.forecast = concat([speech_file(FORECAST)] * 3, folder / f"forecast-{self.tag}.wav")
        self.standup = concat([speech_file(STANDUP)] * 3, folder / f"standup-{self.tag}.wav")
        self.bogus = folder / f"notes-{self.tag}.mp3"
        self.bogus.write_text("These are meeting notes in plain text, not a recording.\n")


def upload_and_follow(page: Page, platform: Platform, files: Files) -> str:
    """Upload view: three files at once; returns the forecast's job id."""
    refused = platform.upload(files.bogus)  # what the API itself says about this file
    assert refused.status_code in (413, 415, 422), refused.text
    refusal = refused.json()["error"]["message"]

    page.goto("/")
    expect(page.get_by_role("heading", name="Upload", exact=True)).to_be_visible()
    page.evaluate("localStorage.clear()")
    page.reload()
    page.evaluate(RECORDER)
    chosen = [str(files.forecast), str(files.standup), str(files.bogus)]
    page.locator("[data-testid=file-input]").set_input_files(chosen)

    rejected = upload_row(page, files.bogus.name)
    expect(rejected).to_have_attribute("data-phase", "rejected")
    expect(rejected.get_by_role("alert")).to_contain_text(refusal)

    recordings = (files.forecast.name, files.standup.name)
    for name in recordings:
        expect(upload_row(page, name)).to_have_attribute(
            "data-status", "completed", timeout=TRANSCRIBE_TIMEOUT_MS
        )
    expect(rejected).to_have_attribute("data-phase", "rejected")

    progress: dict[str, list[float]] = page.evaluate("window.__progress")
    statuses: dict[str, list[str]] = page.evaluate("window.__statuses")
    for name in recordings:
        values = progress.get(name, [])
        assert values, f"no transcription progress was shown for {name}"
        assert values == sorted(values), f"progress of {name} went backwards: {values}"
        assert any(0 < v < 100 for v in values), f"progress of {name} showed no step: {values}"
        assert statuses.get(name, [])[-1:] == ["completed"], statuses

        row = upload_row(page, name)
        job = platform.get(job_id_of(row))
        assert job["status"] == "completed"
        expect(row.get_by_role("region", name=f"Transcript of {name}")).to_have_text(
            job["text"].strip()
        )

    forecast_id = job_id_of(upload_row(page, files.forecast.name))
    assert "weather" in platform.get(forecast_id)["text"].lower()
    screenshot(page, "upload.png")
    return forecast_id


def search_library(page: Page, files: Files) -> None:
    """Library view: both recordings listed; a file-name search finds exactly one."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    expect(page.get_by_role("heading", name="Library", exact=True)).to_be_visible()
    rows = page.locator("table.library__table tbody tr")
    expect(rows.get_by_role("link", name=files.forecast.name)).to_be_visible()
    expect(rows.get_by_role("link", name=files.standup.name)).to_be_visible()
    screenshot(page, "library.png")

    page.get_by_label("File name").fill(f"forecast-{files.tag}")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(files.forecast.name)
    expect(rows.first).to_have_attribute("data-status", "completed")


def play_from_segment(page: Page, platform: Platform, files: Files, job_id: str) -> None:
    """Transcript view: clicking a segment moves the player to its start."""
    page.locator("table.library__table").get_by_role("link", name=files.forecast.name).click()
    expect(page.get_by_role("heading", name=files.forecast.name, exact=True)).to_be_visible()
    assert page.url.endswith(f"/transcriptions/{job_id}")
    segments = platform.get(job_id)["segments"]
    assert len(segments) >= 3, segments
    expect(page.locator("button.segment")).to_have_count(len(segments))

    target = segments[2]
    button = page.locator(f"button.segment[data-index='{target['index']}']")
    expect(button).to_contain_text(target["text"].strip())
    page.wait_for_function("document.querySelector('audio').readyState >= 1")
    button.click()
    position = page.evaluate("document.querySelector('audio').currentTime")
    assert target["start"] - 0.05 <= position <= target["start"] + 1.0, (position, target)
    expect(button).to_have_attribute("aria-current", "true")
    page.evaluate("document.querySelector('audio').pause()")
    screenshot(page, "transcript.png")


def download_srt(page: Page, platform: Platform, files: Files, job_id: str) -> None:
    with page.expect_download() as download_info:
        page.get_by_role("link", name="SRT transcript").click()
    download = download_info.value
    assert download.suggested_filename == f"forecast-{files.tag}.srt"
    srt = Path(download.path()).read_text(encoding="utf-8")

    segments = platform.get(job_id)["segments"]
    cues = parse_srt(srt)
    # Readable cues (core.subtitles): together they say the segments' words.
    assert (
        " ".join(text for _, _, text in cues).split()
        == " ".join(s["text"] for s in segments).split()
    )
    assert [start for start, _, _ in cues] == sorted(start for start, _, _ in cues)
    with platform.client() as client:
        served = client.get(f"/api/transcriptions/{job_id}/transcript", params={"format": "srt"})
    assert srt == served.text


def delete_transcription(page: Page, platform: Platform, files: Files, job_id: str) -> None:
    page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("alertdialog", name="Delete this transcription?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(r"/library"))
    expect(page.get_by_role("heading", name="Library", exact=True)).to_be_visible()

    page.get_by_label("File name").fill(f"forecast-{files.tag}")
    expect(page.get_by_text("No transcriptions match")).to_be_visible()
    page.get_by_label("File name").fill(f"-{files.tag}.wav")
    rows = page.locator("table.library__table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(files.standup.name)
    with platform.client() as client:
        assert client.get(f"/api/transcriptions/{job_id}").status_code == 404


def test_upload_follow_search_play_download_delete(
    page: Page, live_platform: Platform, speech_file: Any, tmp_path: Path
) -> None:
    files = Files(speech_file, tmp_path)
    forecast_id = upload_and_follow(page, live_platform, files)
    search_library(page, files)
    play_from_segment(page, live_platform, files, forecast_id)
    download_srt(page, live_platform, files, forecast_id)
    delete_transcription(page, live_platform, files, forecast_id)

"""The transcript view in a real browser against the live platform (API + worker + bundled
model): the player's controls, shortcuts and word highlighting, the mini-player of narrow
screens, the not-found page of an address that cannot be a transcription, and a worker that
dies mid-job. Each is checked at 1400 px and on a 390 px phone, light and dark, with axe-core
failing the test on any serious or critical violation."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Pages
from tests.e2e.pages import (
    LOOKS,
    PHONE_DARK,
    TRANSCRIBE_TIMEOUT_MS,
    WIDE_LIGHT,
    Look,
    assert_accessible,
)
from tests.faults.conftest import children
from tests.support.media import concat
from tests.support.platform import Platform
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

TABLET = Look(768, 1024, "light")

FORECAST = (
    "Good evening. Here is the weather forecast for the coming days. "
    "Tomorrow morning will be cloudy with light rain in the north. "
    "In the afternoon the sun returns and temperatures rise to twenty degrees. "
    "On Thursday a strong wind arrives from the west, bringing showers to the coast. "
    "The weekend looks dry and warm, a good time for a walk in the park. "
    "That was the forecast, thank you for listening."
)
TIMED = {"word_timestamps": "true", "precise_timestamps": "true"}


def upload(platform: Platform, recording: Path) -> str:
    response = platform.upload(recording, **TIMED)
    assert response.status_code == 202, response.text
    return str(response.json()["items"][0]["id"])


@pytest.fixture(scope="module")
def forecast(live_platform: Platform, speech_file: Any, tmp_path_factory: Any) -> dict[str, Any]:
    """A completed transcript with word timestamps, long enough to scroll a phone's screen."""
    folder = tmp_path_factory.mktemp("transcript-view")
    recording = concat([speech_file(FORECAST)] * 4, folder / "forecast-four-times.wav")
    job_id = upload(live_platform, recording)
    try:
        job = live_platform.wait_status(job_id, timeout=240)
    except TimeoutError:
        print(live_platform.get(job_id))
        for process in live_platform.processes.values():
            print(f"--- {process.name} log ---\n{process.log()[-4000:]}")
        raise
    assert job["status"] == "completed", job["error"]
    assert len(job["segments"]) >= 16, job["segments"]
    assert all(segment["words"] for segment in job["segments"]), job["segments"]
    return job


def media(page: Page, expression: str) -> Any:
    return page.evaluate(
        f"(() => {{ const m = document.querySelector('audio'); return {expression}; }})()"
    )


def open_transcript(page: Page, job: dict[str, Any]) -> None:
    page.goto(f"/transcriptions/{job['id']}")
    expect(page.get_by_role("heading", name=job["filename"], exact=True)).to_be_visible()
    page.wait_for_function("() => document.querySelector('audio').readyState >= 1")


@pytest.mark.parametrize("page", LOOKS, indirect=True, ids=str)
def test_player_speed_skip_shortcuts_and_word_highlighting(
    page: Page, forecast: dict[str, Any]
) -> None:
    open_transcript(page, forecast)
    assert_accessible(page, "a completed transcript")
    controls = page.get_by_role("group", name="Playback controls")

    controls.get_by_label("Playback speed").select_option("1.5")
    assert media(page, "m.playbackRate") == 1.5
    controls.get_by_role("button", name="Forward 5 seconds").click()
    assert media(page, "m.currentTime") == pytest.approx(5, abs=0.01)
    expect(controls.locator(".player-time")).to_contain_text("0:05")

    page.get_by_role("heading", level=1).focus()
    page.keyboard.press("l")
    assert media(page, "m.currentTime") == pytest.approx(10, abs=0.01)
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert media(page, "m.currentTime") == pytest.approx(0, abs=0.01)

    page.keyboard.press("k")
    page.wait_for_function("() => !document.querySelector('audio').paused")
    expect(controls.get_by_role("button", name="Pause")).to_be_visible()
    page.keyboard.press("k")
    page.wait_for_function("() => document.querySelector('audio').paused")

    # A word clicked plays from its start and is highlighted; Space on the segment pauses.
    segment = forecast["segments"][3]
    word = segment["words"][2]
    row = page.locator(f"button.segment[data-index='{segment['index']}']")
    row.locator(".word").nth(2).click()
    expect(row.locator(".word--active")).to_have_text(word["word"].strip())
    expect(row).to_have_attribute("aria-current", "true")
    assert media(page, "m.currentTime") >= word["start"] - 0.01
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('audio').paused")
    expect(row).to_be_focused()

    page.keyboard.press("?")
    help_box = page.get_by_role("region", name="Keyboard shortcuts")
    expect(help_box).to_be_visible()
    expect(help_box.locator("dt")).to_have_text(["Space or K", "J", "L", "?"])
    assert_accessible(page, "the shortcuts popover open")
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()


@pytest.mark.parametrize("page", [*LOOKS, TABLET], indirect=True, ids=str)
def test_narrow_screens_keep_a_mini_player_in_view(page: Page, forecast: dict[str, Any]) -> None:
    open_transcript(page, forecast)
    mini = page.get_by_role("region", name="Mini player")
    expect(mini).to_have_count(0)
    page.locator("button.segment").last.scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    viewport = page.viewport_size
    assert viewport is not None
    player = page.locator(".player audio")
    if viewport["width"] > 860:
        expect(mini).to_have_count(0)
        expect(player).to_be_in_viewport()  # the side column stays in view beside the text
        return

    expect(player).not_to_be_in_viewport()
    expect(mini).to_be_visible()
    expect(mini).to_be_in_viewport(ratio=1)
    box = mini.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= viewport["height"] + 0.5, box
    assert_accessible(page, "the mini-player shown")

    mini.get_by_label("Playback speed (mini player)").select_option("0.75")
    assert media(page, "m.playbackRate") == 0.75
    mini.get_by_role("button", name="Play").click()
    page.wait_for_function("() => !document.querySelector('audio').paused")
    expect(mini.get_by_role("button", name="Pause")).to_be_visible()
    mini.get_by_role("button", name="Pause").click()
    page.wait_for_function("() => document.querySelector('audio').paused")
    expect(mini.locator(".player-time")).to_contain_text("/")

    page.evaluate("window.scrollTo(0, 0)")
    expect(mini).to_have_count(0)


@pytest.mark.parametrize("page", LOOKS, indirect=True, ids=str)
def test_an_address_that_is_not_a_uuid_is_not_found(page: Page, live_platform: Platform) -> None:
    page.goto(f"/transcriptions/{uuid.uuid4()}")
    unknown = page.get_by_role("main")
    expect(unknown.get_by_role("heading", name="Transcript not found")).to_be_visible()
    unknown_text = unknown.inner_text()

    page.goto("/transcriptions/not-a-uuid")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="Transcript not found")).to_be_visible()
    expect(main.get_by_text("There is no transcription with this address.")).to_be_visible()
    assert main.inner_text() == unknown_text
    assert "validation" not in main.inner_text().lower()
    expect(page).to_have_title("Transcript not found · SoundScripter")
    assert_accessible(page, "the not-found page")
    main.get_by_role("link", name="Go to the library").click()
    expect(page.get_by_role("heading", name="Library", exact=True)).to_be_visible()


# Records, from the moment it is started, the fewest transcript lines the page showed, the
# longest list of the stopped run's lines, and whether the restart was announced.
RUN_RECORDER = """
() => {
  const run = (window.__run = { fewest: Infinity, kept: [], notice: "" });
  const look = () => {
    const shown = document.querySelectorAll(".transcript__body .segment").length;
    run.fewest = Math.min(run.fewest, shown);
    const kept = [...document.querySelectorAll(".segment--earlier .segment__text")]
      .map((e) => e.textContent);
    if (kept.length > run.kept.length) run.kept = kept;
    const notice = document.querySelector(".transcript__restart");
    if (notice) run.notice = notice.textContent;
  };
  look();
  new MutationObserver(look)
    .observe(document.body, { subtree: true, childList: true, characterData: true });
}
"""


def kill_pool_process(platform: Platform) -> None:
    """SIGKILL the Celery pool process running the job; the worker's main process lives on and
    the job's message goes back to the queue (acks late, rejected on a lost worker)."""
    worker = platform.processes["worker"].popen
    assert worker is not None
    pids = children(worker.pid)
    assert pids, "the worker has no pool process"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


def test_a_worker_lost_mid_job_is_announced_and_its_text_kept(
    pages: Pages, live_platform: Platform, speech_file: Any, tmp_path: Path
) -> None:
    recording = concat([speech_file(FORECAST)] * 3, tmp_path / "forecast-crash.wav")
    job_id = upload(live_platform, recording)
    watchers = [pages.open(WIDE_LIGHT), pages.open(PHONE_DARK)]
    for watcher in watchers:
        watcher.goto(f"/transcriptions/{job_id}")
        expect(watcher.locator("button.segment").first).to_be_visible(timeout=TRANSCRIBE_TIMEOUT_MS)

    seen = [
        text.strip()
        for text in watchers[0].locator("button.segment .segment__text").all_inner_texts()
    ]
    assert live_platform.get(job_id)["status"] == "processing", "ended before the worker was killed"
    for watcher in watchers:
        watcher.evaluate(RUN_RECORDER)
    kill_pool_process(live_platform)

    for watcher in watchers:
        notice = watcher.locator(".transcript__restart")
        expect(notice).to_contain_text(
            "The worker running this transcription stopped, so it started again from the "
            "beginning (attempt 2).",
            timeout=120_000,
        )
        assert_accessible(watcher, "the restart announced")
    for watcher in watchers:
        expect(watcher.locator(".transcript__meta [data-status]")).to_have_attribute(
            "data-status", "completed", timeout=TRANSCRIBE_TIMEOUT_MS
        )
        run = watcher.evaluate("window.__run")
        assert run["fewest"] >= 1, "the transcript vanished while the job started over"
        assert run["kept"][: len(seen)] == seen, (run["kept"], seen)
        expect(watcher.locator(".segment--earlier")).to_have_count(0)
        expect(watcher.locator(".transcript__restart")).to_have_count(0)

    job = live_platform.get(job_id)
    assert (job["status"], job["attempts"], job["restart_reason"]) == (
        "completed",
        2,
        "worker_lost",
    )
    rows = watchers[0].locator("button.segment")
    wait_until(lambda: rows.count() == len(job["segments"]), 30, 0.2, "every segment shown")
    assert rows.all_inner_texts()[0].endswith(job["segments"][0]["text"].strip())

"""The Upload view in a real browser against real API processes: what the form offers for the
served models, and the view's accessibility at every look (1400 px and a 390 px phone, light
and dark)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, Route, expect

from tests.e2e.conftest import Pages
from tests.e2e.pages import (
    LOOKS,
    PHONE_LIGHT,
    TRANSCRIBE_TIMEOUT_MS,
    WIDE_LIGHT,
    assert_accessible,
    job_id_of,
    open_fresh,
    screenshot,
    upload_row,
)
from tests.support.media import concat
from tests.support.platform import Platform, free_port, platform_env

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def multilingual_api(migrated_db: str, run_dir: Path) -> Iterator[Platform]:
    """An API that offers the multilingual `base` besides the default tiny.en. No worker serves
    `base` here: an upload for it is accepted and waits for one."""
    workdir = run_dir / "multilingual-api"
    workdir.mkdir(exist_ok=True)
    port = free_port()
    platform = Platform(platform_env(API_PORT=str(port), ALLOWED_MODELS="base"), workdir, port)
    platform.start_api()
    try:
        platform.wait_ready()
        yield platform
    except BaseException:
        print(f"--- api log ---\n{platform.processes['api'].log()[-5000:]}")
        raise
    finally:
        platform.stop()


def test_the_form_offers_what_the_served_models_can_do(
    pages: Pages, multilingual_api: Platform, speech_file: Any
) -> None:
    with multilingual_api.client() as client:
        served = {model["name"]: model for model in client.get("/api/models").json()["items"]}
    assert list(served) == ["tiny.en", "base"], served
    assert served["base"]["multilingual"], served
    base_languages = len(served["base"]["languages"])
    assert base_languages == 99, served["base"]  # Whisper's languages before large-v3

    page = pages.open(WIDE_LIGHT, multilingual_api)
    open_fresh(page)
    picker = page.get_by_label("Model")
    expect(picker).to_have_value("tiny.en")
    expect(picker.locator("option")).to_have_text(
        ["tiny.en — English only", f"base — {base_languages} languages"]
    )
    expect(page.get_by_label("Language")).to_have_count(0)
    expect(page.get_by_role("radiogroup", name="Task")).to_have_count(0)
    expect(page.get_by_text("tiny.en transcribes English only.")).to_be_visible()
    assert_accessible(page, "the form on an English-only model")

    picker.select_option("base")
    language = page.get_by_label("Language")
    expect(language).to_be_visible()
    expect(language.locator("option")).to_have_count(1 + base_languages)  # and Auto-detect
    expect(page.get_by_text("No worker serves it right now")).to_be_visible()
    language.select_option("fr")
    page.get_by_label("Translate to English").check()
    expect(page.get_by_text("The gist, in English: base gives the sense")).to_be_visible()
    assert_accessible(page, "the form on a multilingual model, translating")

    recording = speech_file("Bonjour a tous.", name=f"bonjour-{secrets.token_hex(3)}")
    page.locator("[data-testid=file-input]").set_input_files(str(recording))
    row = upload_row(page, recording.name)
    expect(row).to_have_attribute("data-phase", "accepted")
    job = multilingual_api.get(job_id_of(row))
    assert (job["model"], job["requested_language"], job["task"]) == ("base", "fr", "translate")
    with multilingual_api.client() as client:
        assert client.post(f"/api/transcriptions/{job['id']}/cancel").status_code == 200

    # Back on the English-only model the language and translation are not offered, nor sent.
    picker.select_option("tiny.en")
    expect(page.get_by_label("Language")).to_have_count(0)
    page.reload()
    expect(page.get_by_label("Model")).to_have_value("tiny.en")


@pytest.mark.parametrize("page", LOOKS, indirect=True, ids=str)
def test_upload_view_is_accessible(page: Page, tmp_path: Path) -> None:
    open_fresh(page)
    expect(page.get_by_test_id("dropzone")).to_be_visible()
    assert_accessible(page, "the empty Upload view")
    bogus = tmp_path / f"notes-{secrets.token_hex(3)}.mp3"
    bogus.write_text("Meeting notes in plain text, not a recording.\n")
    page.locator("[data-testid=file-input]").set_input_files(str(bogus))
    expect(upload_row(page, bogus.name)).to_have_attribute("data-phase", "rejected")
    assert_accessible(page, "a rejected file in the list")
    dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    if (page.viewport_size or {}).get("width") == PHONE_LIGHT.width and not dark:
        screenshot(page, "upload-phone.png")


INTERRUPTED = "Upload interrupted — choose the file again."


def test_reload_while_sending_warns_and_keeps_interrupted_and_refused_rows(
    page: Page, speech_file: Any, tmp_path: Path
) -> None:
    open_fresh(page)
    held: list[Route] = []  # the upload's request is held: its row stays "uploading"
    page.route("**/api/transcriptions", lambda route: held.append(route))
    recording = speech_file("An interrupted upload.", name=f"held-{secrets.token_hex(3)}")
    empty = tmp_path / f"empty-{secrets.token_hex(3)}.wav"
    empty.write_bytes(b"")
    page.get_by_role("heading", name="Upload", exact=True).click()  # the user has used the page
    page.locator("[data-testid=file-input]").set_input_files([str(recording), str(empty)])
    expect(upload_row(page, recording.name)).to_have_attribute("data-phase", "uploading")
    refused = upload_row(page, empty.name)
    expect(refused).to_have_attribute("data-phase", "rejected")
    expect(refused.get_by_role("alert")).to_contain_text("This file is empty")
    assert held, "the upload request was not sent"

    dialogs: list[str] = []

    def answer(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)
    page.reload()
    assert dialogs == ["beforeunload"], dialogs
    page.unroute("**/api/transcriptions")

    interrupted = upload_row(page, recording.name)
    expect(interrupted).to_have_attribute("data-phase", "interrupted")
    expect(interrupted.get_by_role("alert")).to_have_text(INTERRUPTED)
    expect(upload_row(page, empty.name)).to_have_attribute("data-phase", "rejected")
    assert_accessible(page, "interrupted and refused rows")

    interrupted.get_by_role("button", name=f"Remove {recording.name} from this list").click()
    expect(interrupted).to_have_count(0)
    page.reload()  # nothing is being sent now: no question asked
    assert dialogs == ["beforeunload"], dialogs
    expect(upload_row(page, empty.name)).to_have_attribute("data-phase", "rejected")
    expect(upload_row(page, recording.name)).to_have_count(0)


@pytest.mark.parametrize("page", [PHONE_LIGHT], indirect=True, ids=str)
def test_new_rows_are_scrolled_into_view_on_a_phone(page: Page, tmp_path: Path) -> None:
    open_fresh(page)
    list_top = page.locator("section.uploads").evaluate("e => e.getBoundingClientRect().top")
    assert list_top > page.viewport_size["height"], "the list is not below the fold here"  # type: ignore[index]
    files = [tmp_path / f"empty-{i}-{secrets.token_hex(3)}.wav" for i in range(2)]
    for path in files:
        path.write_bytes(b"")
    page.locator("[data-testid=file-input]").set_input_files([str(p) for p in files])
    first = upload_row(page, files[0].name)
    expect(first).to_have_attribute("data-phase", "rejected")
    expect(first).to_be_in_viewport()


# A stand-in for the browser's Notification (headless Chromium shows none): permission
# granted, each notification recorded.
NOTIFICATIONS = """
window.__notifications = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) {
    window.__notifications.push({ title, body: options && options.body });
  }
};
"""
# Records every queue line a row shows ("Next in line · starts in about 1 min").
QUEUE_RECORDER = """
() => {
  window.__queue = [];
  new MutationObserver(() => {
    document.querySelectorAll(".upload-row__queue").forEach((e) => {
      if (!window.__queue.includes(e.textContent)) window.__queue.push(e.textContent);
    });
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
}
"""
AWAY = "() => { document.hasFocus = () => false; window.dispatchEvent(new Event('blur')); }"
BACK = "() => { delete document.hasFocus; window.dispatchEvent(new Event('focus')); }"
SPEECH = (
    "The library keeps every transcription with its date, length and status. "
    "Each file is uploaded on its own and waits its turn for the worker. "
    "When the work is done the page says so, even when nobody is looking at it."
)


def test_finished_work_is_counted_in_the_title_notified_and_queued_work_placed(
    page: Page, web_ui: Platform, speech_file: Any, tmp_path: Path
) -> None:
    page.add_init_script(NOTIFICATIONS)
    open_fresh(page)
    page.get_by_label("Notify me when a batch is done").check()
    page.evaluate(QUEUE_RECORDER)
    tag = secrets.token_hex(3)
    first = concat([speech_file(SPEECH)] * 2, tmp_path / f"first-{tag}.wav")
    second = concat([speech_file(SPEECH)] * 2, tmp_path / f"second-{tag}.wav")
    page.evaluate(AWAY)
    page.locator("[data-testid=file-input]").set_input_files([str(first), str(second)])
    for path in (first, second):
        expect(upload_row(page, path.name)).to_have_attribute(
            "data-status", "completed", timeout=TRANSCRIBE_TIMEOUT_MS
        )
    expect(page).to_have_title("(2) done · Upload · SoundScripter")
    notes = page.evaluate("window.__notifications")
    body = f"2 transcribed: {first.name}, {second.name}"
    assert notes == [{"title": "2 files done", "body": body}]

    # One worker slot: the second file waited behind the first and said where it stood.
    lines: list[str] = page.evaluate("window.__queue")
    placed = r"(Next|\d+(st|nd|rd|th)) in line( · starts in .+)?"
    assert any(re.fullmatch(placed, line) for line in lines), lines
    page.evaluate(BACK)
    expect(page).to_have_title("Upload · SoundScripter")
    assert_accessible(page, "finished uploads")

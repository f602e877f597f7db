"""Editing a transcript against the running platform (API and worker, the bundled model): two
segments fixed and a speaker renamed show in the transcript after a reload, in the SRT
download, in text search and in the OpenAI-compatible `text`; the recognition stays
retrievable as revision 0."""

from __future__ import annotations

import secrets
import wave
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.support import dialogs
from tests.support.platform import Platform
from tests.support.subtitle_checks import check_readable, read_cues

pytestmark = pytest.mark.integration


def _unique_dialog(folder: Path, name: str) -> Path:
    """A two-voice dialog of four lines, made unique (a few silent samples more) so no earlier
    transcription of the same file is reused."""
    path, _ = dialogs.dialog(folder, 2, turns=4)
    with wave.open(str(path)) as source:
        params, frames = source.getparams(), source.readframes(source.getnframes())
    target = folder / f"{name}.wav"
    with wave.open(str(target), "wb") as out:
        out.setparams(params)
        out.writeframes(frames + b"\0\0" * (1 + secrets.randbelow(1600)))
    return target


def _completed(platform: Platform, path: Path, **fields: str) -> dict[str, Any]:
    response = platform.upload(path, **fields)
    assert response.status_code == 202, response.text
    job = platform.wait_status(response.json()["items"][0]["id"], timeout=180)
    assert job["status"] == "completed", job
    assert len(job["segments"]) >= 2, job["segments"]
    return job


def _replaced_last_word(text: str, word: str) -> str:
    return " ".join([*text.split()[:-1], word])


def test_edits_show_after_a_reload_in_subtitles_and_search_and_the_original_is_kept(
    live_platform: Platform, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    recording = _unique_dialog(tmp_path, f"revisions-{tag}")
    original = _completed(
        live_platform, recording, speakers="2", word_timestamps="true", dedup="false"
    )
    assert original["speakers"], original
    first, last = original["segments"][0], original["segments"][-1]
    new_word, same_count_word = f"zebraquill{tag}", f"marmalade{tag}."
    first_text = f"Good morning, did you see the {new_word} report?"
    last_text = _replaced_last_word(last["text"], same_count_word)
    speaker = first["speaker"]
    assert speaker in original["speakers"]

    with live_platform.client() as client:
        url = f"/api/transcriptions/{original['id']}"
        edit = {
            "segments": [
                {"index": first["index"], "text": first_text},
                {"index": last["index"], "text": last_text},
            ],
            "speakers": {speaker: "Alice Example"},
            "revision": 0,
        }
        answer = client.patch(url, json=edit)
        assert answer.status_code == 200, answer.text
        assert (answer.json()["revision"], answer.json()["edited"]) == (1, True)
        stale = client.patch(url, json={**edit, "segments": [], "revision": 0})
        assert stale.status_code == 409
        assert stale.json()["error"]["code"] == "revision_conflict"

        reloaded = client.get(url).json()
        srt = client.get(f"{url}/transcript", params={"format": "srt"})
        found = client.get(
            "/api/transcriptions", params={"text": new_word, "q": f"revisions-{tag}"}
        ).json()
        gone = client.get(
            "/api/transcriptions",
            params={"text": _gone_word(original, reloaded), "q": f"revisions-{tag}"},
        ).json()
        recognised = client.get(f"{url}/transcript", params={"format": "json", "revision": 0})
        history = client.get(f"{url}/revisions").json()["items"]
        missing = client.get(f"{url}/transcript", params={"revision": 2})

    # The transcript view after a reload.
    assert reloaded["edited"] is True
    assert reloaded["revision"] == 1
    assert reloaded["edited_at"] is not None
    assert reloaded["speakers"][speaker] == "Alice Example"
    by_index = {s["index"]: s for s in reloaded["segments"]}
    assert by_index[first["index"]]["text"].strip() == first_text
    assert by_index[last["index"]]["text"].strip() == last_text
    assert new_word in reloaded["text"]
    assert same_count_word in reloaded["text"]
    if last.get("words"):  # as many words as before: the word timestamps stay, respelled
        words = by_index[last["index"]]["words"]
        assert words[-1]["word"].strip() == same_count_word
        assert [w["start"] for w in words] == [w["start"] for w in last["words"]]
    # The SRT download: readable cues saying exactly the edited segments, the new name.
    assert srt.status_code == 200
    assert "Alice Example: " in srt.text
    names = "|".join(sorted(map(str, reloaded["speakers"].values()), key=len, reverse=True))
    check_readable(read_cues(srt.text), reloaded["segments"], label=rf"({names}): ")
    assert new_word in srt.text
    assert same_count_word in srt.text
    # Text search finds the edited words, and no longer the replaced one.
    assert [item["id"] for item in found["items"]] == [original["id"]]
    assert found["total"] == 1
    assert gone["total"] == 0
    # The recognition is still there.
    assert recognised.status_code == 200
    assert recognised.headers["content-disposition"].find("(revision 0)") > 0
    body = recognised.json()
    assert body["revision"] == 0
    assert [s["text"] for s in body["segments"]] == [s["text"] for s in original["segments"]]
    assert body["speakers"] == original["speakers"]
    assert body["text"] == original["text"]
    assert [(r["revision"], r["segments"], r["speakers"]) for r in history] == [
        (0, [], False),
        (1, sorted([first["index"], last["index"]]), True),
    ]
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "revision_not_found"


def _gone_word(before: dict[str, Any], after: dict[str, Any]) -> str:
    """A word of the recognition that the edit removed from the whole transcript."""
    kept = {w.strip(".,?!").lower() for w in after["text"].split()}
    removed = [
        w.strip(".,?!").lower()
        for w in before["text"].split()
        if w.strip(".,?!").isalpha() and len(w.strip(".,?!")) >= 5
    ]
    candidates = [w for w in removed if w not in kept]
    assert candidates, (before["text"], after["text"])
    return candidates[0]


def test_the_openai_compatible_text_is_the_edited_transcript(
    live_platform: Platform, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    recording = _unique_dialog(tmp_path, f"openai-revisions-{tag}")
    sdk = openai.OpenAI(base_url=f"{live_platform.base_url}/v1", api_key="unused")
    with recording.open("rb") as file:
        raw = sdk.audio.transcriptions.with_raw_response.create(model="whisper-1", file=file)
    recognised, job_id = raw.parse().text, raw.headers["x-transcription-id"]
    job = live_platform.get(job_id)
    assert job["text"] == recognised
    assert len(job["segments"]) >= 2
    first, second = job["segments"][0], job["segments"][1]
    fixes = [
        {"index": first["index"], "text": f"Good morning, here is the {tag}quill report."},
        {"index": second["index"], "text": _replaced_last_word(second["text"], f"{tag}zed.")},
    ]
    with live_platform.client() as client:
        answer = client.patch(f"/api/transcriptions/{job_id}", json={"segments": fixes})
        assert answer.status_code == 200, answer.text
        edited = answer.json()["text"]
        original = client.get(f"/api/transcriptions/{job_id}/transcript", params={"revision": 0})
    assert f"{tag}quill" in edited
    assert f"{tag}zed." in edited

    with recording.open("rb") as file:  # the same file again: answered from the edited job
        again = sdk.audio.transcriptions.with_raw_response.create(
            model="whisper-1", file=file, response_format="text"
        )
    assert again.headers["x-transcription-id"] != job_id
    assert live_platform.get(again.headers["x-transcription-id"])["reused_from"] == job_id
    assert str(again.parse()).strip() == edited
    assert original.text.split() == " ".join(s["text"] for s in job["segments"]).split()

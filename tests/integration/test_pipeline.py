"""The core pipeline end to end: real API, Postgres, RabbitMQ, Redis, Celery worker and model."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from core.db import Database
from core.lifecycle import create
from core.models import Transcription, utcnow
from core.queue import JobQueue
from core.storage import LocalStorage
from tests.support import media
from tests.support.platform import Platform
from tests.support.subtitle_checks import check_readable, read_cues
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

SENTENCE_A = (
    "Please send the quarterly report to the finance team before Friday. "
    "The meeting will start at ten in the morning."
)
SENTENCE_B = (
    "Our new office has a large kitchen and a quiet library. "
    "Everyone is welcome to visit on Monday afternoon."
)


@pytest.fixture(scope="module")
def completed_pair(live_platform: Platform, speech_file) -> list[dict]:  # type: ignore[no-untyped-def]
    wav = speech_file(SENTENCE_A, name="finance-report")
    mp3 = speech_file(SENTENCE_B, fmt="mp3", name="office-visit")
    response = live_platform.upload(wav, mp3)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["rejected"] == []
    assert [item["filename"] for item in body["items"]] == [
        "finance-report.wav",
        "office-visit.mp3",
    ]
    return [live_platform.wait_status(item["id"], timeout=120) for item in body["items"]]


def test_two_recordings_in_one_request_complete_accurately(completed_pair: list[dict]) -> None:
    for job, reference in zip(completed_pair, (SENTENCE_A, SENTENCE_B), strict=True):
        assert job["status"] == "completed", job["error"]
        assert job["progress"] == 1.0
        assert job["language"] == "en"
        assert job["duration_seconds"] > 3
        assert media.word_error_rate(reference, job["text"]) <= 0.15, job["text"]
        assert job["segments"], "segments are stored"
        assert "".join(s["text"] for s in job["segments"]).strip() == job["text"]
        indexes = [s["index"] for s in job["segments"]]
        assert indexes == list(range(len(indexes)))


def test_default_segments_are_sentences_and_precise_timestamps_is_a_job_option(
    completed_pair: list[dict], live_platform: Platform, speech_file
) -> None:  # type: ignore[no-untyped-def]
    chunked = completed_pair[0]
    assert chunked["precise_timestamps"] is False
    # Chunked decoding hands back one ~30 s chunk; the worker splits it at sentence ends.
    assert len(chunked["segments"]) >= 2, chunked["segments"]
    for segment in chunked["segments"]:
        assert segment["start"] < segment["end"] <= chunked["duration_seconds"] + 0.5
        assert segment["text"].rstrip().endswith((".", "!", "?")), segment["text"]

    response = live_platform.upload(
        speech_file(SENTENCE_A, name="finance-report-precise"), precise_timestamps="true"
    )
    assert response.status_code == 202, response.text
    precise = live_platform.wait_status(response.json()["items"][0]["id"])
    assert precise["status"] == "completed", precise["error"]
    assert precise["precise_timestamps"] is True
    assert media.word_error_rate(SENTENCE_A, precise["text"]) <= 0.15, precise["text"]
    ends = [s["end"] for s in precise["segments"]]
    assert ends == sorted(ends)


def test_video_with_audio_track_transcribes_like_audio(
    live_platform: Platform,
    speech_file,
    media_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    clip = media.video(speech_file(SENTENCE_B, name="video-source"), media_dir / "presentation.mp4")
    response = live_platform.upload(clip)
    assert response.status_code == 202, response.text
    item = response.json()["items"][0]
    assert item["media_kind"] == "video"
    assert item["content_type"].startswith("video/")
    job = live_platform.wait_status(item["id"])
    assert job["status"] == "completed", job["error"]
    assert media.word_error_rate(SENTENCE_B, job["text"]) <= 0.15, job["text"]


def test_bad_files_are_rejected_per_file_while_good_ones_go_through(
    live_platform: Platform,
    speech_file,
    media_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    good = speech_file("Good morning everyone.", name="good-morning")
    empty = media_dir / "empty.wav"
    empty.write_bytes(b"")
    text_as_mp3 = media_dir / "notes.mp3"
    text_as_mp3.write_text("These are meeting notes, not audio.\n" * 20)
    full = media.video(good, media_dir / "full.mp4")
    truncated = media_dir / "truncated.mp4"
    truncated.write_bytes(full.read_bytes()[: full.stat().st_size // 3])

    response = live_platform.upload(empty, text_as_mp3, good, truncated)
    assert response.status_code == 202, response.text
    body = response.json()
    assert [item["filename"] for item in body["items"]] == ["good-morning.wav"]
    rejected = {r["filename"]: r["error"] for r in body["rejected"]}
    assert rejected["empty.wav"]["code"] == "empty_file"
    assert rejected["notes.mp3"]["code"] == "unsupported_media"
    assert rejected["truncated.mp4"]["code"] in {"unsupported_media", "undecodable_audio"}
    assert all(error["message"] for error in rejected.values())
    assert live_platform.wait_status(body["items"][0]["id"])["status"] == "completed"


def test_request_with_only_bad_files_gets_an_error(
    live_platform: Platform, media_dir: Path
) -> None:
    bogus = media_dir / "bogus.mp3"
    bogus.write_bytes(b"\x00\x01garbage" * 100)
    response = live_platform.upload(bogus)
    assert response.status_code == 415
    body = response.json()
    assert body["error"]["code"] == "unsupported_media"
    assert body["rejected"][0]["filename"] == "bogus.mp3"


def test_invalid_fields_and_missing_files(live_platform: Platform, speech_file) -> None:  # type: ignore[no-untyped-def]
    with live_platform.client() as client:
        assert client.post("/api/transcriptions", data={"task": "x"}).status_code == 422
        response = client.post(
            "/api/transcriptions", content=b"{}", headers={"content-type": "application/json"}
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_content_type"
    clip = speech_file("Hello there.", name="hello-there")
    response = live_platform.upload(clip, task="summarise")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_task"
    response = live_platform.upload(clip, language="xx")
    assert response.json()["error"]["code"] == "invalid_language"


def _insert_jobs(db: Database, names: list[str], status: str = "completed") -> list[str]:
    """Rows made directly in the database, marked as published (the sweeper leaves them be)."""
    ids = []
    with db.session() as session:
        for name in names:
            job = Transcription(
                filename=name,
                storage_key=uuid.uuid4().hex,
                size_bytes=1,
                sha256="0" * 64,
                model="tiny.en",
                enqueued_at=utcnow(),
            )
            create(session, job)
            job.status = status
            ids.append(str(job.id))
    return ids


def test_search_by_file_name_is_case_insensitive_substring(
    live_platform: Platform, live_rows: Database
) -> None:
    tag = uuid.uuid4().hex[:8]
    ids = _insert_jobs(
        live_rows, [f"Board-Meeting-{tag}.wav", f"standup-{tag}.mp3", f"board_{tag}_50%.ogg"]
    )
    with live_platform.client() as client:
        found = client.get("/api/transcriptions", params={"q": f"board-meeting-{tag}"}).json()
        assert [item["id"] for item in found["items"]] == [ids[0]]
        found = client.get("/api/transcriptions", params={"q": tag}).json()
        assert {item["id"] for item in found["items"]} == set(ids)
        found = client.get("/api/transcriptions", params={"q": f"{tag}_50%"}).json()
        assert [item["id"] for item in found["items"]] == [ids[2]]
        found = client.get("/api/transcriptions", params={"q": f"{tag}_5_%"}).json()
        assert found["items"] == []
        done = client.get("/api/transcriptions", params={"q": tag, "status": "completed"}).json()
        assert len(done["items"]) == 3
        other = client.get("/api/transcriptions", params={"q": tag, "status": "failed,queued"})
        assert other.json()["items"] == []
        assert client.get("/api/transcriptions", params={"status": "done"}).status_code == 422


def test_search_by_spoken_text(completed_pair: list[dict], live_platform: Platform) -> None:
    with live_platform.client() as client:
        found = client.get("/api/transcriptions", params={"text": "quarterly finance"}).json()
    assert completed_pair[0]["id"] in [item["id"] for item in found["items"]]
    assert completed_pair[1]["id"] not in [item["id"] for item in found["items"]]


def test_pagination_walks_every_item_once_newest_first(
    live_platform: Platform, live_rows: Database
) -> None:
    tag = uuid.uuid4().hex[:8]
    ids = _insert_jobs(live_rows, [f"page-{tag}-{n:02d}.wav" for n in range(23)])
    seen: list[str] = []
    cursor = None
    with live_platform.client() as client:
        while True:
            params = {"q": f"page-{tag}", "limit": 5}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/api/transcriptions", params=params).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert client.get("/api/transcriptions", params={"cursor": "%%bad"}).status_code == 422
    assert seen == list(reversed(ids))


def test_every_download_format(completed_pair: list[dict], live_platform: Platform) -> None:
    job = completed_pair[0]
    segments = job["segments"]
    with live_platform.client() as client:
        url = f"/api/transcriptions/{job['id']}/transcript"
        txt = client.get(url, params={"format": "txt"})
        assert txt.headers["content-disposition"].startswith(
            'attachment; filename="finance-report.txt"'
        )
        assert txt.text.split() == job["text"].split()

        # SRT and VTT: numbered, readable cues (core.subtitles) saying the segments' words,
        # the first starting with the first segment.
        srt = client.get(url, params={"format": "srt"})
        blocks = srt.text.strip().split("\n\n")
        assert [block.split("\n")[0] for block in blocks] == [
            str(n) for n in range(1, len(blocks) + 1)
        ]
        cues = read_cues(srt.text)
        check_readable(cues, segments)
        assert abs(cues[0].start - segments[0]["start"]) < 0.001

        vtt = client.get(url, params={"format": "vtt"})
        assert vtt.headers["content-type"].startswith("text/vtt")
        assert vtt.text.startswith("WEBVTT\n\n")
        assert [(c.start, c.end, c.lines) for c in read_cues(vtt.text)] == [
            (c.start, c.end, c.lines) for c in cues
        ]

        data = client.get(url, params={"format": "json"}).json()
        assert data["id"] == job["id"]
        assert [s["text"] for s in data["segments"]] == [s["text"] for s in segments]

        tsv = client.get(url, params={"format": "tsv"}).text.strip().split("\n")
        assert tsv[0] == "start\tend\ttext"
        assert len(tsv) == len(segments) + 1
        assert int(tsv[1].split("\t")[0]) == round(segments[0]["start"] * 1000)

        assert client.get(url, params={"format": "docx"}).status_code == 422


def test_media_download_supports_range(completed_pair: list[dict], live_platform: Platform) -> None:
    job = completed_pair[1]
    with live_platform.client() as client:
        full = client.get(f"/api/transcriptions/{job['id']}/audio")
        assert full.status_code == 200
        assert full.headers["content-type"] == "audio/mpeg"
        assert len(full.content) == job["size_bytes"]
        part = client.get(
            f"/api/transcriptions/{job['id']}/audio", headers={"Range": "bytes=10-109"}
        )
        assert part.status_code == 206
        assert part.content == full.content[10:110]
        assert part.headers["content-range"] == f"bytes 10-109/{job['size_bytes']}"


def test_unknown_ids_get_404_with_error_shape(live_platform: Platform) -> None:
    with live_platform.client() as client:
        response = client.get(f"/api/transcriptions/{uuid.uuid4()}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        not_an_id = client.get("/api/transcriptions/not-a-uuid")
        assert not_an_id.status_code == 404  # as an unknown id: no validation message
        assert not_an_id.json()["error"]["code"] == "not_found"


def test_cancel_queued_and_running_jobs(
    live_platform: Platform,
    speech_file,
    media_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    sentence = speech_file(SENTENCE_A + " " + SENTENCE_B, name="long-part")
    long_audio = media.concat([sentence] * 12, media_dir / "long-talk.wav")
    waiting = speech_file("This one waits in the queue.", name="waiting")
    body = live_platform.upload(long_audio, waiting).json()
    running_id, queued_id = (item["id"] for item in body["items"])

    wait_until(
        lambda: live_platform.get(running_id)["progress"] > 0, 60, what="the long job to progress"
    )
    with live_platform.client() as client:
        assert live_platform.get(queued_id)["status"] == "queued"
        response = client.post(f"/api/transcriptions/{queued_id}/cancel")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"

        response = client.post(f"/api/transcriptions/{running_id}/cancel")
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        assert client.post(f"/api/transcriptions/{running_id}/cancel").status_code == 409

    worker = live_platform.processes["worker"]
    wait_until(
        lambda: any(
            "job stopped" in line and f"[job={running_id}]" in line
            for line in worker.log().splitlines()
        ),
        60,
        0.1,
        "the worker to stop the cancelled job",
    )
    running = live_platform.get(running_id)
    assert running["status"] == "cancelled"
    assert running["progress"] < 1.0
    assert live_platform.get(queued_id)["status"] == "cancelled"
    # The worker keeps serving.
    after = live_platform.upload(speech_file("Still working.", name="still-working")).json()
    assert live_platform.wait_status(after["items"][0]["id"])["status"] == "completed"


def test_retry_of_a_failed_job(  # type: ignore[no-untyped-def]
    live_platform: Platform, speech_file, live_rows: Database, live_queue: JobQueue
) -> None:
    storage = LocalStorage(Path(live_platform.env["STORAGE_DIR"]))
    [job_id] = _insert_jobs(live_rows, ["lost-file.wav"], status="queued")
    assert live_queue.enqueue(uuid.UUID(job_id))
    failed = live_platform.wait_status(job_id)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "media_missing"

    with live_platform.client() as client:
        assert client.post(f"/api/transcriptions/{job_id}/retry").status_code == 200
        with live_rows.session() as session:
            key = session.get(Transcription, uuid.UUID(job_id)).storage_key  # type: ignore[union-attr]
        done = live_platform.wait_status(job_id)
        assert done["status"] == "failed"  # still no file: fails again, cleanly

        target = storage.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(speech_file("The file is back.", name="file-back"), target)
        response = client.post(f"/api/transcriptions/{job_id}/retry")
        assert response.status_code == 200
        assert response.json()["status"] == "queued"
        done = live_platform.wait_status(job_id)
        assert done["status"] == "completed", done["error"]
        assert done["error"] is None
        assert client.post(f"/api/transcriptions/{job_id}/retry").status_code == 409


def test_delete_removes_row_and_stored_file(  # type: ignore[no-untyped-def]
    live_platform: Platform, speech_file, live_rows: Database
) -> None:
    storage = LocalStorage(Path(live_platform.env["STORAGE_DIR"]))
    body = live_platform.upload(speech_file("Delete me afterwards.", name="delete-me")).json()
    job_id = body["items"][0]["id"]
    live_platform.wait_status(job_id)
    with live_rows.session() as session:
        key = session.get(Transcription, uuid.UUID(job_id)).storage_key  # type: ignore[union-attr]
    assert storage.exists(key)
    with live_platform.client() as client:
        assert client.delete(f"/api/transcriptions/{job_id}").status_code == 204
        assert client.get(f"/api/transcriptions/{job_id}").status_code == 404
        assert client.delete(f"/api/transcriptions/{job_id}").status_code == 404
    assert not storage.exists(key)


def test_redelivery_of_a_completed_job_changes_nothing(
    completed_pair: list[dict], live_platform: Platform, live_queue: JobQueue
) -> None:
    job_id = completed_pair[0]["id"]
    before = live_platform.get(job_id)
    assert live_queue.enqueue(uuid.UUID(job_id))
    worker = live_platform.processes["worker"]
    wait_until(
        lambda: f"already completed [job={job_id}]" in worker.log(),
        30,
        what="the worker to receive the duplicate",
    )
    after = live_platform.get(job_id)
    assert after == before

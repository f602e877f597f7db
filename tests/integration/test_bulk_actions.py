"""Bulk actions and the zip export: each id follows the single action's rules and is reported
on its own, another owner's id is not found, and the zip holds one file per transcription,
named after its upload (the app in process against this run's database and broker)."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import AsyncIterator

import httpx
import pytest

from core.db import Database
from core.models import Segment, Transcription
from core.settings import get_settings
from tests.support.job_rows import new_job
from tests.support.search_reading import app_client

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

ALICE = "alice-bulk-key-0123456789"
BOB = "bob-bulk-key-0123456789ab"


@pytest.fixture
async def client(migrated_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = get_settings().model_copy(
        update={"database_url": migrated_db, "api_keys": [f"alice:{ALICE}", f"bob:{BOB}"]}
    )
    async with app_client(settings) as running:
        running.headers["Authorization"] = f"Bearer {ALICE}"
        yield running


def _completed(db: Database, filename: str, text: str, owner: str = "alice") -> uuid.UUID:
    job_id = new_job(db, owner=owner, filename=filename, status="completed", text=text)
    with db.session() as session:
        session.add(Segment(transcription_id=job_id, index=0, start=0.0, end=2.0, text=text))
    return job_id


def _status(db: Database, job_id: uuid.UUID) -> str | None:
    with db.session() as session:
        job = session.get(Transcription, job_id)
        return None if job is None else job.status


async def test_each_id_gets_the_single_actions_answer(
    client: httpx.AsyncClient, db: Database
) -> None:
    queued = new_job(db, owner="alice")
    done = _completed(db, "done.wav", " Done.")
    theirs = new_job(db, owner="bob")
    ids = [str(queued), str(done), str(theirs), "not-a-uuid", str(queued)]
    answer = await client.post("/api/transcriptions/bulk", json={"action": "cancel", "ids": ids})
    assert answer.status_code == 200, answer.text
    results = {r["id"]: r for r in answer.json()["results"]}
    assert list(results) == ids[:4]  # each id once, in the order sent
    assert results[str(queued)] == {
        "id": str(queued),
        "ok": True,
        "status": "cancelled",
        "error": None,
    }
    assert results[str(done)]["ok"] is False
    assert results[str(done)]["status"] == "completed"
    assert results[str(done)]["error"]["code"] == "invalid_state"
    for hidden in (str(theirs), "not-a-uuid"):
        assert results[hidden]["status"] is None
        assert results[hidden]["error"]["code"] == "not_found"
    assert _status(db, theirs) == "queued"

    retried = await client.post(
        "/api/transcriptions/bulk", json={"action": "retry", "ids": [str(queued), str(done)]}
    )
    answers = retried.json()["results"]
    assert [(r["ok"], r["status"]) for r in answers] == [(True, "queued"), (False, "completed")]

    deleted = await client.post(
        "/api/transcriptions/bulk", json={"action": "delete", "ids": [str(done), str(theirs)]}
    )
    assert [r["ok"] for r in deleted.json()["results"]] == [True, False]
    assert _status(db, done) is None
    assert _status(db, theirs) == "queued"


async def test_bulk_requests_are_bounded(client: httpx.AsyncClient) -> None:
    too_many = [str(uuid.uuid4()) for _ in range(501)]
    for body in (
        {"action": "cancel", "ids": too_many},
        {"action": "cancel", "ids": []},
        {"action": "archive", "ids": [str(uuid.uuid4())]},
    ):
        answer = await client.post("/api/transcriptions/bulk", json=body)
        assert answer.status_code == 422, body
        assert answer.json()["error"]["code"] == "invalid_request"


async def test_the_zip_holds_each_transcript_under_its_upload_name(
    client: httpx.AsyncClient, db: Database
) -> None:
    first = _completed(db, "Meeting.wav", " First meeting notes.")
    second = _completed(db, "meeting.wav", " Second meeting notes.")
    odd = _completed(db, "../up/../here.mp3", " Odd name.")
    ids = ",".join(map(str, (first, second, odd)))
    answer = await client.get("/api/transcriptions/export", params={"ids": ids, "format": "txt"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert "transcripts-txt.zip" in answer.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    names = archive.namelist()
    assert names == ["Meeting.txt", "meeting (2).txt", "_up_.._here.txt"]
    for name, job_id in zip(names, (first, second, odd), strict=True):
        single = await client.get(f"/api/transcriptions/{job_id}/transcript")
        assert archive.read(name).decode() == single.text

    theirs = _completed(db, "theirs.wav", " Not yours.", owner="bob")
    refused = await client.get(
        "/api/transcriptions/export", params={"ids": f"{first},{theirs}", "format": "srt"}
    )
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"
    bad_format = await client.get(
        "/api/transcriptions/export", params={"ids": str(first), "format": "doc"}
    )
    assert bad_format.status_code == 422


async def test_a_path_id_that_is_not_a_uuid_is_not_found(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/transcriptions/not-a-uuid"),
        ("GET", "/api/transcriptions/not-a-uuid/transcript"),
        ("GET", "/api/transcriptions/not-a-uuid/revisions"),
        ("GET", "/api/transcriptions/not-a-uuid/webhooks"),
        ("POST", "/api/transcriptions/not-a-uuid/cancel"),
        ("DELETE", "/api/transcriptions/12345"),
    ]:
        answer = await client.request(method, path)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["error"]["code"] == "not_found"

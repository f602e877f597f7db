"""What an edit may do (`PATCH /api/transcriptions/{id}` with segments): the refusals, each in
the error shape and changing nothing, and an edit that changes nothing recording no revision
(the app in process against this run's database)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from core.db import Database
from core.models import Segment
from core.settings import get_settings
from tests.support.job_rows import new_job
from tests.support.search_reading import app_client

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
async def client(migrated_db: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(get_settings().model_copy(update={"database_url": migrated_db})) as c:
        yield c


def _job(db: Database, status: str = "completed") -> uuid.UUID:
    job_id = new_job(db, status=status, text="One. Two.")
    with db.session() as session:
        for index, text in enumerate([" One.", " Two."]):
            session.add(
                Segment(transcription_id=job_id, index=index, start=index, end=index + 1, text=text)
            )
    return job_id


async def test_bad_edits_are_refused_and_change_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    job_id = _job(db)
    url = f"/api/transcriptions/{job_id}"
    for body, status, code in [
        ({"segments": [{"index": 7, "text": "x"}]}, 422, "invalid_segments"),
        (
            {"segments": [{"index": 0, "text": "a"}, {"index": 0, "text": "b"}]},
            422,
            "invalid_segments",
        ),
        ({"segments": [{"index": 0, "text": "bell\u0007"}]}, 422, "invalid_segments"),
        ({"segments": [{"index": 0, "text": "x" * 2001}]}, 422, "invalid_segments"),
        ({}, 422, "invalid_request"),
        ({"segments": [{"index": 0, "text": "x"}], "revision": 3}, 409, "revision_conflict"),
        ({"speakers": {"S1": "Alice"}}, 409, "conflict"),
    ]:
        answer = await client.patch(url, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert answer.json()["error"]["code"] == code, body
    detail = (await client.get(url)).json()
    assert (detail["revision"], detail["edited"], detail["text"]) == (0, False, "One. Two.")

    queued = _job(db, status="queued")
    refused = await client.patch(
        f"/api/transcriptions/{queued}", json={"segments": [{"index": 0, "text": "x"}]}
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "invalid_state"


async def test_an_edit_that_changes_nothing_records_no_revision(
    client: httpx.AsyncClient, db: Database
) -> None:
    job_id = _job(db)
    url = f"/api/transcriptions/{job_id}"
    same = await client.patch(url, json={"segments": [{"index": 1, "text": "  Two. "}]})
    assert same.json()["revision"] == 0
    blank = await client.patch(url, json={"segments": [{"index": 1, "text": ""}]})
    assert blank.json()["revision"] == 1
    assert blank.json()["text"] == "One."
    assert (await client.get(f"{url}/transcript")).text == "One.\n"
    history = (await client.get(f"{url}/revisions")).json()["items"]
    assert [item["revision"] for item in history] == [0, 1]

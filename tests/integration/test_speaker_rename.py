"""Renaming speakers over HTTP (`PATCH /api/transcriptions/{id}`): the names reach every
download, bad changes are refused in the error shape, and a transcription without speakers
cannot be renamed (the app in process against this run's database)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from api.main import create_app
from core import lifecycle
from core.db import Database
from core.models import Segment, Transcription
from core.settings import get_settings
from core.states import JobStatus

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LINES = [("S1", "Shall we start the meeting now?"), ("S2", "Yes, everyone is here.")]


def _job(db: Database, *, speakers: dict[str, str] | None) -> uuid.UUID:
    with db.session() as session:
        job = Transcription(
            filename="dialog.wav",
            storage_key=uuid.uuid4().hex,
            size_bytes=1,
            sha256=uuid.uuid4().hex * 2,
            model="tiny.en",
        )
        lifecycle.create(session, job)
        job.status = JobStatus.completed
        job.text = " ".join(text for _, text in LINES)
        job.speakers = speakers
        session.add(job)
        for index, (speaker, text) in enumerate(LINES):
            start = index * 3.0
            session.add(
                Segment(
                    transcription_id=job.id,
                    index=index,
                    start=start,
                    end=start + 2.5,
                    text=text,
                    speaker=speaker if speakers else None,
                )
            )
        return job.id


@pytest.fixture
async def client(migrated_db: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(get_settings().model_copy(update={"database_url": migrated_db}), sweeper=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client


async def test_renamed_speakers_show_in_every_download(
    client: httpx.AsyncClient, db: Database
) -> None:
    job_id = _job(db, speakers={"S1": "S1", "S2": "S2"})
    response = await client.patch(
        f"/api/transcriptions/{job_id}", json={"speakers": {"S1": "Alice", "S2": "Bob"}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["speakers"] == {"S1": "Alice", "S2": "Bob"}
    detail = (await client.get(f"/api/transcriptions/{job_id}")).json()
    assert detail["speakers"] == {"S1": "Alice", "S2": "Bob"}

    async def download(kind: str) -> str:
        answer = await client.get(f"/api/transcriptions/{job_id}/transcript?format={kind}")
        assert answer.status_code == 200, answer.text
        return answer.text

    assert "Alice: Shall we start" in await download("txt")
    assert "Bob: Yes, everyone" in await download("srt")
    vtt = await download("vtt")
    assert "<v Alice>Shall we start" in vtt
    assert "<v Bob>Yes, everyone" in vtt
    assert "Alice" in await download("tsv")
    assert "Bob" in await download("csv")
    body = json.loads(await download("json"))
    assert "Alice" in json.dumps(body)
    # An empty name gives the speaker its id back.
    reset = await client.patch(f"/api/transcriptions/{job_id}", json={"speakers": {"S2": ""}})
    assert reset.json()["speakers"] == {"S1": "Alice", "S2": "S2"}


async def test_bad_renames_are_refused_in_the_error_shape(
    client: httpx.AsyncClient, db: Database
) -> None:
    job_id = _job(db, speakers={"S1": "S1", "S2": "S2"})
    unknown = await client.patch(f"/api/transcriptions/{job_id}", json={"speakers": {"S9": "X"}})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "invalid_speakers"
    control = await client.patch(
        f"/api/transcriptions/{job_id}", json={"speakers": {"S1": "bad\u0007name"}}
    )
    assert control.status_code == 422
    assert control.json()["error"]["code"] == "invalid_speakers"
    missing = await client.patch(
        f"/api/transcriptions/{uuid.uuid4()}", json={"speakers": {"S1": "X"}}
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"]
    untouched = (await client.get(f"/api/transcriptions/{job_id}")).json()
    assert untouched["speakers"] == {"S1": "S1", "S2": "S2"}


async def test_a_transcription_without_speakers_cannot_be_renamed(
    client: httpx.AsyncClient, db: Database
) -> None:
    job_id = _job(db, speakers=None)
    response = await client.patch(
        f"/api/transcriptions/{job_id}", json={"speakers": {"S1": "Alice"}}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"]

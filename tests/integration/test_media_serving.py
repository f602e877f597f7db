"""The player's media endpoint: HEAD, ranges, and Range errors in the error shape (the app in
process against this run's database, with its own storage folder)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.deps import get_storage
from api.main import create_app
from core import lifecycle
from core.db import Database
from core.models import Transcription
from core.settings import get_settings
from core.storage import LocalStorage

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

MEDIA = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
def stored(db: Database, tmp_path: Path) -> tuple[LocalStorage, uuid.UUID]:
    storage = LocalStorage(tmp_path / "storage")
    upload = storage.open_upload()
    upload.write(MEDIA)
    key = upload.commit()
    with db.session() as session:
        job = Transcription(
            filename="talk.mp3",
            storage_key=key,
            content_type="audio/mpeg",
            size_bytes=len(MEDIA),
            sha256=upload.sha256,
            model="tiny.en",
        )
        lifecycle.create(session, job)
    return storage, job.id


@pytest.fixture
async def client(
    migrated_db: str, stored: tuple[LocalStorage, uuid.UUID]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(get_settings().model_copy(update={"database_url": migrated_db}), sweeper=False)
    app.dependency_overrides[get_storage] = lambda: stored[0]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client


async def test_head_gives_the_headers_without_the_body(
    client: httpx.AsyncClient, stored: tuple[LocalStorage, uuid.UUID]
) -> None:
    response = await client.head(f"/api/transcriptions/{stored[1]}/audio")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(MEDIA))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["content-security-policy"].startswith("sandbox")


async def test_a_range_is_served_and_bad_ranges_use_the_error_shape(
    client: httpx.AsyncClient, stored: tuple[LocalStorage, uuid.UUID]
) -> None:
    url = f"/api/transcriptions/{stored[1]}/audio"
    part = await client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == MEDIA[100:200]
    past_the_end = await client.get(url, headers={"Range": "bytes=999999-"})
    assert past_the_end.status_code == 416
    assert past_the_end.json()["error"]["code"] == "range_not_satisfiable"
    assert past_the_end.headers["content-range"] == f"bytes */{len(MEDIA)}"
    for malformed in ("bytes", "pages=1-2", "bytes=200-100"):
        response = await client.get(url, headers={"Range": malformed})
        assert response.status_code == 400, malformed
        assert response.json()["error"]["code"] == "invalid_range"

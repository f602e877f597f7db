"""STORAGE_BACKEND=s3 through the API and a real worker, against a private SeaweedFS: upload,
transcription by a worker that shares no folder with the API, the player's Range requests,
delete; and an upload while the store is down (503, nothing stored, no job)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from api.main import create_app
from core.models import Transcription
from core.settings import get_settings
from core.storage.s3 import object_name
from tests.support.platform import Process, free_port
from tests.support.private import PrivatePlatform, private_platform
from tests.support.seaweedfs import SeaweedFS

pytestmark = pytest.mark.integration

TEXT = "The library opens at nine and closes at five on weekdays."


@pytest.fixture(scope="module")
def s3_platform(
    seaweedfs: SeaweedFS, migrated_db: str, run_dir: Path
) -> Iterator[tuple[PrivatePlatform, str]]:
    """An API and a worker storing media in SeaweedFS; the worker's STORAGE_DIR is a folder
    of its own, so it can only read media from the store."""
    if seaweedfs.process is None:
        seaweedfs.start()
    bucket = seaweedfs.create_bucket("ss-api")
    with private_platform(run_dir / "s3", workers=0, **seaweedfs.env(bucket)) as platform:
        env = {**platform.env, "STORAGE_DIR": str(platform.workdir / "worker-host")}
        args = [sys.executable, "-m", "worker", "--node", "s3worker", "--concurrency=1"]
        worker = Process("s3worker", args, env, platform.workdir / "s3worker.log")
        worker.start()
        platform.processes["s3worker"] = worker
        platform.wait_worker("s3worker")
        yield platform, bucket


def test_upload_transcribe_play_and_delete_with_s3(
    s3_platform: tuple[PrivatePlatform, str],
    seaweedfs: SeaweedFS,
    speech_file,  # type: ignore[no-untyped-def]
) -> None:
    platform, bucket = s3_platform
    clip = speech_file(TEXT, name="s3-library")
    data = clip.read_bytes()
    response = platform.upload(clip)
    assert response.status_code == 202, response.text
    job_id = response.json()["items"][0]["id"]
    key = platform.job_row(job_id)["storage_key"]
    assert seaweedfs.object_names(bucket) == [object_name(key)]
    api_storage = Path(platform.env["STORAGE_DIR"])
    assert list((api_storage / "incoming").iterdir()) == []
    assert not (api_storage / "media").exists() or not any((api_storage / "media").iterdir())

    done = platform.wait_status(job_id)
    assert done["status"] == "completed", done
    assert "library" in done["text"].lower()
    worker_cache = platform.workdir / "worker-host" / "cache"
    assert (worker_cache / key).read_bytes() == data

    url = f"/api/transcriptions/{job_id}/audio"
    with platform.client() as client:
        head = client.head(url)
        assert (head.status_code, head.headers["content-length"]) == (200, str(len(data)))
        assert head.content == b""
        whole = client.get(url)
        assert whole.content == data
        part = client.get(url, headers={"Range": "bytes=100-4195"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 100-4195/{len(data)}"
        assert part.content == data[100:4196]
        tail = client.get(url, headers={"Range": "bytes=-10"})
        assert tail.content == data[-10:]
        beyond = client.get(url, headers={"Range": f"bytes={len(data) + 5}-"})
        assert beyond.status_code == 416
        assert beyond.json()["error"]["code"] == "range_not_satisfiable"
        assert client.get(url, headers={"Range": "pages=1-2"}).json()["error"]["code"] == (
            "invalid_range"
        )
        assert client.delete(f"/api/transcriptions/{job_id}").status_code == 204
        assert client.get(url).status_code == 404
    assert seaweedfs.object_names(bucket) == []


@pytest.fixture
async def dead_store_client(
    migrated_db: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Path]]:
    """The app in process, its media store a port nothing listens on."""
    settings = get_settings().model_copy(
        update={
            "database_url": migrated_db,
            "storage_backend": "s3",
            "s3_endpoint_url": f"http://127.0.0.1:{free_port()}",
            "s3_access_key_id": "nobody",
            "s3_secret_access_key": "nothing-here",
            "storage_dir": tmp_path / "storage",
        }
    )
    app = create_app(settings, sweeper=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client, tmp_path / "storage"


@pytest.mark.anyio
async def test_an_upload_while_the_store_is_down_is_503_with_nothing_kept(
    dead_store_client: tuple[httpx.AsyncClient, Path],
    db,  # type: ignore[no-untyped-def]
    speech_file,  # type: ignore[no-untyped-def]
) -> None:
    client, storage_dir = dead_store_client
    clip = speech_file("Nobody can store this file today.", name="s3-down")
    files = [("files", (f"store-down-{n}.wav", clip.read_bytes())) for n in range(2)]
    response = await client.post("/api/transcriptions", files=files)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert list((storage_dir / "incoming").iterdir()) == []
    with db.session() as session:
        count = session.exec(
            select(func.count())
            .select_from(Transcription)
            .where(Transcription.filename.startswith("store-down-"))  # type: ignore[attr-defined]
        ).one()
    assert count == 0


@pytest.mark.anyio
async def test_ready_names_a_store_that_is_down(
    dead_store_client: tuple[httpx.AsyncClient, Path],
) -> None:
    client, _ = dead_store_client
    response = await client.get("/api/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["storage"].startswith("down:")
    assert body["checks"]["postgres"] == "ok"

"""Limits on what one upload request may hold and on how many jobs a key may have waiting."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from core.models import Transcription
from tests.support.private import PrivatePlatform, private_platform

pytestmark = pytest.mark.integration

DAVE = "dave-key-0123456789abcdef"
LIMIT = 5


@pytest.fixture(scope="module")
def limited(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    """An API (no worker: jobs stay queued) whose key may have 5 jobs waiting, with no limit
    on concurrent uploads, so only the waiting-jobs limit stands between racing requests."""
    with private_platform(
        run_dir / "limits",
        workers=0,
        headers={"Authorization": f"Bearer {DAVE}"},
        API_KEYS=f"dave:{DAVE}",
        MAX_QUEUED_JOBS_PER_KEY=str(LIMIT),
        MAX_CONCURRENT_UPLOADS_PER_KEY="0",
    ) as platform:
        yield platform


def test_the_waiting_jobs_limit_holds_under_concurrent_uploads(
    limited: PrivatePlatform,
    speech_file,  # type: ignore[no-untyped-def]
) -> None:
    clip = speech_file("Four requests race for the same room.", name="race").read_bytes()
    statuses: list[int] = []
    start = threading.Barrier(4)

    def upload(n: int) -> None:
        files = [("files", (f"race-{n}-{i}.wav", clip)) for i in range(3)]
        with limited.client() as client:
            start.wait()
            statuses.append(client.post("/api/transcriptions", files=files).status_code)

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Three files each against a limit of five: exactly one request fits.
    assert sorted(statuses) == [202, 429, 429, 429]
    with limited.session() as session:
        stored = session.exec(select(func.count()).select_from(Transcription)).one()
    assert stored == 3
    with limited.client() as client:
        assert len(client.get("/api/transcriptions").json()["items"]) == 3


def test_a_refused_upload_leaves_no_file_behind(limited: PrivatePlatform) -> None:
    storage = Path(limited.env["STORAGE_DIR"])
    before = sorted(p for p in storage.rglob("*") if p.is_file())
    with httpx.Client(base_url=limited.base_url, headers=limited.headers, timeout=30) as client:
        files = [("files", (f"more-{i}.wav", b"RIFF" + b"\0" * 64)) for i in range(3)]
        assert client.post("/api/transcriptions", files=files).status_code == 429
    assert sorted(p for p in storage.rglob("*") if p.is_file()) == before

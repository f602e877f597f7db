"""An API restart, jobs committed but never published, and the sweeper's stale-lease rule."""

from __future__ import annotations

import shutil
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.lifecycle import create
from core.models import Transcription, utcnow
from core.storage import LocalStorage
from core.sweeper import _LOCK_KEY
from tests.faults.conftest import Faulty, wait_progress
from tests.support.private import PrivatePlatform
from tests.support.waiting import wait_until

pytestmark = pytest.mark.faults

WORKER_CONCURRENCY = 2


def _insert(
    platform: PrivatePlatform,
    *,
    storage_key: str | None = None,
    status: str = "queued",
    attempts: int = 0,
    age_seconds: float = 60,
) -> str:
    """A job row written straight to the platform's database, as a crashed process left it."""
    job = Transcription(
        filename="left-behind.wav",
        storage_key=storage_key or uuid.uuid4().hex,
        size_bytes=1,
        sha256="0" * 64,
        model="tiny.en",
        created_at=utcnow() - timedelta(seconds=age_seconds),
    )
    with platform.session() as session:
        create(session, job)
        if status == "processing":
            job.status = status
            job.attempts = attempts
            job.worker = "lost-worker"
            job.enqueued_at = job.started_at = job.created_at
            job.lease_expires_at = utcnow() - timedelta(seconds=1)
        session.add(job)
    return str(job.id)


def test_api_restart_while_jobs_run_loses_nothing(
    faulty: Faulty, talk_clip: Path, media_dir: Path
) -> None:
    platform = faulty.platform
    response = platform.upload(talk_clip, talk_clip, talk_clip, dedup="false")
    assert response.status_code == 202, response.text
    ids = [item["id"] for item in response.json()["items"]]
    running = wait_progress(platform, ids[0])

    api = platform.processes["api"]
    api.stop()
    # While the API is down: a job its previous life committed but never published.
    storage = LocalStorage(Path(platform.env["STORAGE_DIR"]))
    key = storage.new_key()
    storage.path(key).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(talk_clip, storage.path(key))
    orphan = _insert(platform, storage_key=key)

    def worker_carried_on() -> bool:
        row = platform.job_row(ids[0])
        return row["status"] != "processing" or row["progress"] > running["progress"]

    wait_until(worker_carried_on, 60, 0.1, "the worker to carry on while the API is down")
    platform.start_api()
    platform.wait_ready()

    for job_id in [*ids, orphan]:
        job = platform.wait_status(job_id, timeout=180)
        assert job["status"] == "completed", job["error"]
        indexes = [s["index"] for s in job["segments"]]
        assert indexes == list(range(len(indexes)))
        assert job["attempts"] == 1
    assert platform.get(ids[0])["text"] == platform.get(orphan)["text"]
    print("API restart: 3/3 running or queued jobs completed, the unpublished job was published")


def test_stale_lease_is_requeued_or_failed_once_attempts_are_used(faulty: Faulty) -> None:
    platform = faulty.platform
    requeued = _insert(platform, status="processing", attempts=1)
    exhausted = _insert(platform, status="processing", attempts=3)
    failed = platform.wait_status(exhausted, timeout=30)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "too_many_attempts"
    assert failed["attempts"] == 3
    # The other one went back to the queue and ran again (and failed: it has no file).
    rerun = platform.wait_status(requeued, timeout=60)
    assert rerun["error"]["code"] == "media_missing"
    assert rerun["attempts"] == 2


def test_only_the_sweeper_holding_the_advisory_lock_acts(faulty: Faulty) -> None:
    platform = faulty.platform
    engine = sa.create_engine(platform.database_url)
    with engine.connect() as holder:
        assert holder.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK_KEY}).scalar()
        try:
            job_id = _insert(platform, status="processing", attempts=1)
            # Kept: this checks that nothing happens, which no condition can signal. The
            # window is four sweep intervals (SWEEP_INTERVAL_SECONDS=1).
            time.sleep(4)
            assert platform.job_row(job_id)["status"] == "processing"
        finally:
            holder.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
            holder.commit()
    engine.dispose()
    wait_until(
        lambda: platform.job_row(job_id)["status"] != "processing",
        10,
        what="the sweeper to act once the lock is free",
    )

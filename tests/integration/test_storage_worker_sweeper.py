"""The storage seen by the worker and the sweeper, in-process (real Postgres rolled back per
test, real Redis, a private SeaweedFS): a job fetches its object into the worker's cache, a
missing object fails it with media_missing, a store that stays down with storage_unavailable
after bounded retries; the sweeper removes orphaned media and fails queued jobs whose media is
gone, with either backend.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.db import Database
from core.events import EventPublisher, FailedEvent
from core.models import Transcription, utcnow
from core.orphans import OrphanScan, sweep_orphans
from core.queue import JobQueue
from core.settings import Settings, get_settings
from core.storage import LocalStorage, Storage
from core.storage.s3 import S3Storage
from core.sweeper import sweep_once
from tests.support.fake_transcriber import FakeModel, tone_wav
from tests.support.job_events import JobEventLog
from tests.support.pipeline_runs import HELLO, SECONDS, Runs, kinds, new_job, row
from tests.support.platform import free_port
from tests.support.seaweedfs import SeaweedFS
from worker.pipeline import Outcome

pytestmark = pytest.mark.integration

GRACE = 3 * 86400.0
"""Grace of the sweeps here: only this test's rows, backdated past it, are old enough."""


@pytest.fixture
def s3(seaweedfs: SeaweedFS, bucket: str, tmp_path: Path) -> Iterator[S3Storage]:
    settings = seaweedfs.settings(bucket, storage_dir=tmp_path / "s3", storage_retry_seconds=2)
    storage = S3Storage.from_settings(settings)
    yield storage
    storage.close()


@pytest.fixture
def publisher() -> Iterator[EventPublisher]:
    settings = get_settings()
    events = EventPublisher(settings.redis_url, settings.redis_prefix)
    yield events
    events.close()


# --- the worker -------------------------------------------------------------------------------


def test_a_job_fetches_its_object_into_the_worker_cache(pipeline_runs: Runs, s3: S3Storage) -> None:
    pipeline_runs.storage = s3
    runner = pipeline_runs.job(tone_wav(SECONDS))
    outcome, _ = runner.run(FakeModel(HELLO))
    assert outcome == Outcome("completed")
    assert runner.row().status == "completed"
    key = runner.row().storage_key
    assert (s3.cache.folder / key).is_file()
    assert list(s3.incoming.iterdir()) == []


def test_a_missing_object_fails_the_job_with_media_missing(
    pipeline_runs: Runs, s3: S3Storage
) -> None:
    pipeline_runs.storage = s3
    runner = pipeline_runs.job(None)
    outcome, _ = runner.run(FakeModel(HELLO))
    assert outcome == Outcome("failed", "media_missing")
    assert runner.row().error_code == "media_missing"


def test_a_store_that_stays_down_fails_the_job_after_bounded_retries(
    pipeline_runs: Runs, tmp_path: Path
) -> None:
    dead = get_settings().model_copy(
        update={
            "storage_backend": "s3",
            "s3_endpoint_url": f"http://127.0.0.1:{free_port()}",
            "s3_access_key_id": "nobody",
            "s3_secret_access_key": "nothing-here",
            "storage_dir": tmp_path / "dead",
            "storage_retry_seconds": 3,
        }
    )
    pipeline_runs.storage = S3Storage.from_settings(dead)
    runner = pipeline_runs.job(None)
    started = time.monotonic()
    outcome, models = runner.run(FakeModel(HELLO))
    elapsed = time.monotonic() - started
    assert outcome == Outcome("failed", "storage_unavailable")
    assert models.asked == []
    # Retried with backoff (1 s, then 2 s would pass the 3 s budget) before giving up.
    assert 0.9 < elapsed < 30, elapsed
    events = runner.events.received()
    assert kinds(events) == [("processing", 2), ("failed", 3)]
    assert isinstance(events[-1], FailedEvent)
    assert events[-1].error.code == "storage_unavailable"


# --- the sweeper --------------------------------------------------------------------------------


def _backdate(db: Database, job_id: uuid.UUID) -> None:
    with db.session() as session:
        job = session.get(Transcription, job_id)
        assert job is not None
        job.created_at = utcnow() - timedelta(seconds=GRACE * 2)
        session.add(job)


def _stored(storage: Storage, data: bytes) -> str:
    upload = storage.open_upload()
    upload.write(data)
    return upload.commit()


def _orphan_cases(tx_db: Database, publisher: EventPublisher, storage: Storage) -> dict[str, Any]:
    """A queued job with its media, one without, and a file no job refers to."""
    kept = _stored(storage, os.urandom(1000))
    with_media = new_job(tx_db, kept)
    without_media = new_job(tx_db, storage.new_key())
    for job_id in (with_media, without_media):
        _backdate(tx_db, job_id)
    orphan = _stored(storage, os.urandom(1000))
    settings = get_settings()
    log = JobEventLog(settings.redis_url, settings.redis_prefix, without_media)
    return {
        "kept": kept,
        "with": with_media,
        "without": without_media,
        "orphan": orphan,
        "log": log,
    }


def _check_swept(tx_db: Database, storage: Storage, case: dict[str, Any]) -> None:
    assert storage.exists(case["kept"])
    assert not storage.exists(case["orphan"])
    assert row(tx_db, case["with"]).status == "queued"
    gone = row(tx_db, case["without"])
    assert (gone.status, gone.error_code) == ("failed", "media_missing")
    events = case["log"].received()
    assert [(e.type, e.error.code) for e in events if isinstance(e, FailedEvent)] == [
        ("failed", "media_missing")
    ]
    case["log"].close()


def test_the_sweeper_removes_orphans_on_both_sides_with_s3(
    tx_db: Database, publisher: EventPublisher, s3: S3Storage
) -> None:
    case = _orphan_cases(tx_db, publisher, s3)
    # Within the grace nothing is removed: an upload in flight stores its file before its row.
    fresh = sweep_orphans(tx_db, publisher, s3, OrphanScan(), grace_seconds=GRACE)
    assert (fresh.removed_objects, fresh.missing_media) == (0, 1)
    assert s3.exists(case["orphan"])
    time.sleep(1.1)  # S3 times have whole seconds
    report = sweep_orphans(
        tx_db, publisher, s3, OrphanScan(), grace_seconds=1, queued_grace_seconds=GRACE
    )
    assert (report.removed_objects, report.missing_media) == (1, 0)
    _check_swept(tx_db, s3, case)


def test_the_sweeper_removes_orphans_on_both_sides_with_local_storage(
    tx_db: Database, publisher: EventPublisher, job_queue: JobQueue, tmp_path: Path
) -> None:
    storage = LocalStorage(tmp_path / "local")
    case = _orphan_cases(tx_db, publisher, storage)
    old = time.time() - GRACE * 2
    os.utime(storage.path(case["orphan"]), (old, old))
    settings = Settings(orphan_grace_seconds=GRACE, publish_retry_after_seconds=86400)
    report = sweep_once(settings, tx_db, publisher, storage)
    assert (report.removed_objects, report.missing_media) == (1, 1)
    _check_swept(tx_db, storage, case)


def test_the_listing_continues_where_the_last_sweep_stopped(
    tx_db: Database, publisher: EventPublisher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core import orphans

    monkeypatch.setattr(orphans, "PAGE", 2)
    storage = LocalStorage(tmp_path / "local")
    keys = sorted(_stored(storage, b"x") for _ in range(3))
    old = time.time() - GRACE * 2
    for key in keys:
        os.utime(storage.path(key), (old, old))
    scan = OrphanScan()
    first = sweep_orphans(tx_db, publisher, storage, scan, grace_seconds=GRACE)
    assert (first.removed_objects, scan.after_key) == (2, keys[1])
    second = sweep_orphans(tx_db, publisher, storage, scan, grace_seconds=GRACE)
    assert (second.removed_objects, scan.after_key) == (1, None)
    assert storage.listing(None, 10) == []

"""The sweeper removes partial uploads their API process left behind, and only those."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from core.db import Database
from core.events import EventPublisher
from core.queue import JobQueue
from core.settings import get_settings
from core.storage import LocalStorage
from core.sweeper import SweepReport, sweep_once
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def test_stale_partial_uploads_are_removed_and_live_ones_kept(
    db: Database, job_queue: JobQueue, tmp_path: Path
) -> None:
    settings = get_settings().model_copy(update={"stale_upload_seconds": 600})
    storage = LocalStorage(tmp_path / "storage")
    abandoned = storage.open_upload()
    abandoned.write(b"half a file")
    abandoned.close()
    an_hour_ago = time.time() - 3600
    os.utime(abandoned.temp_path, (an_hour_ago, an_hour_ago))
    receiving = storage.open_upload()
    receiving.write(b"still arriving")
    publisher = EventPublisher(settings.redis_url, settings.redis_prefix)

    def swept() -> SweepReport | None:
        # Another sweeper of this run (a test platform's API) may hold the lock for a moment.
        report = sweep_once(settings, db, publisher, storage)
        return None if report.skipped_locked else report

    report = wait_until(swept, 30, what="the sweeper lock")
    publisher.close()
    assert report.removed_uploads == 1
    assert not abandoned.temp_path.exists()
    assert receiving.temp_path.exists()
    receiving.discard()

"""Workers that die: SIGKILL mid-job, a file that kills its worker every time, warm shutdown."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import (
    Faulty,
    kill_pool_processes,
    kill_worker,
    start_worker,
    wait_progress,
)
from tests.support import media
from tests.support.private import PrivatePlatform, private_platform
from tests.support.waiting import wait_until

pytestmark = pytest.mark.faults

WORKER_CONCURRENCY = 1
KILL_TRIALS = int(os.environ.get("FAULTS_KILL_TRIALS", "10"))


def _upload(platform: PrivatePlatform, *paths: Path) -> list[str]:
    response = platform.upload(*paths, dedup="false")  # every job a real run
    assert response.status_code == 202, response.text
    return [item["id"] for item in response.json()["items"]]


def assert_completed_once(platform: PrivatePlatform, job_id: str, reference: str) -> dict[str, Any]:
    """Completed, one transcript equal to an uninterrupted run's, segments 0..n-1 once each."""
    job = platform.wait_status(job_id, timeout=180)
    assert job["status"] == "completed", job["error"]
    assert job["text"] == reference
    indexes = [s["index"] for s in job["segments"]]
    assert indexes == list(range(len(indexes)))
    assert platform.segment_indexes(job_id) == indexes
    assert "".join(s["text"] for s in job["segments"]).strip() == job["text"]
    return job


@pytest.fixture(scope="module")
def reference(faulty: Faulty, talk_clip: Path) -> str:
    """The clip's transcript from a run nothing interrupted."""
    [job_id] = _upload(faulty.platform, talk_clip)
    job = faulty.platform.wait_status(job_id, timeout=180)
    assert job["status"] == "completed", job["error"]
    assert job["attempts"] == 1
    return str(job["text"])


def test_sigkill_mid_job_ten_trials_each_complete_exactly_once(
    faulty: Faulty, talk_clip: Path, reference: str
) -> None:
    platform = faulty.platform
    outcomes = []
    for trial in range(KILL_TRIALS):
        [job_id] = _upload(platform, talk_clip)
        before = wait_progress(platform, job_id)
        if trial % 2 == 0:
            kill_pool_processes(platform)  # the process running the job dies; Celery lives
        else:
            kill_worker(platform)  # the whole worker dies and is started again
            start_worker(platform)
        killed = time.monotonic()
        job = assert_completed_once(platform, job_id, reference)
        assert job["attempts"] == 2, job
        outcomes.append((round(before["progress"], 3), round(time.monotonic() - killed, 1)))
    print(f"SIGKILL trials: {len(outcomes)}/{KILL_TRIALS} completed exactly once; {outcomes}")
    assert len(outcomes) == KILL_TRIALS


def test_a_file_that_kills_its_worker_every_time_fails_after_max_attempts(
    migrated_db: str, run_dir: Path, media_dir: Path, talk_clip: Path
) -> None:
    """Every time the poison job starts, the process running it dies (SIGKILL, as a decoder
    crash would do it); after MAX_ATTEMPTS it ends failed and the queue moves on."""
    healthy = media.speech("This recording is fine.", media_dir, name="after-poison")
    with private_platform(run_dir / "poison", MAX_ATTEMPTS="3") as platform:
        [poison_id, healthy_id] = _upload(platform, talk_clip, healthy)
        killed_attempts: list[int] = []

        def poison_finished() -> bool:
            row = platform.job_row(poison_id)
            if row["status"] == "processing" and row["attempts"] not in killed_attempts:
                kill_pool_processes(platform)
                killed_attempts.append(row["attempts"])
            return row["status"] in {"completed", "failed", "cancelled"}

        wait_until(poison_finished, 180, 0.02, "the poison job to end")
        failed = platform.get(poison_id)
        assert failed["status"] == "failed"
        assert failed["error"]["code"] == "too_many_attempts"
        assert failed["error"]["message"]
        assert failed["attempts"] == 3
        assert killed_attempts == [1, 2, 3]
        done = platform.wait_status(healthy_id, timeout=120)
        assert done["status"] == "completed", done["error"]
        # Kept: nothing runs the poison file again, an absence no condition can signal;
        # the window is two sweep intervals after the queue moved on.
        time.sleep(2)
        assert platform.job_row(poison_id)["attempts"] == 3
        runs = len(killed_attempts)
        print(f"poison file: failed after {failed['attempts']} attempts, {runs} executions")


def test_warm_shutdown_finishes_the_running_job(
    faulty: Faulty, talk_clip: Path, reference: str
) -> None:
    platform = faulty.platform
    [job_id] = _upload(platform, talk_clip)
    wait_progress(platform, job_id)
    worker = platform.processes["worker"]
    assert worker.popen is not None
    worker.popen.send_signal(signal.SIGTERM)  # to the Celery main process only: warm shutdown
    wait_until(lambda: worker.popen is not None and worker.popen.poll() is not None, 120)
    row = platform.job_row(job_id)
    assert row["status"] == "completed", row
    start_worker(platform)
    job = assert_completed_once(platform, job_id, reference)
    assert job["attempts"] == 1

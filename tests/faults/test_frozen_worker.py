"""A frozen worker (SIGSTOP) whose job is taken over, then woken (SIGCONT): it writes nothing.

Two workers, one pool process each, a 10 s lease. The test freezes whatever runs the job (its
pool process only, or the whole worker: main and pool process) once the job has stored its
first segments. The lease expires, the sweeper requeues the job and the other worker takes it
over (attempt 2). Then the frozen one is woken: its lease keeper finds the job no longer its
own within `CANCEL_CHECK_SECONDS` and the run stops (its decoding step abandoned, its process
replaced) without a single write. The job completes once, with the transcript of a run nothing
interrupted, its segments 0..n-1 all stored by the second run, and two attempts: the frozen
run's message is acknowledged, not redelivered, so it costs no third one.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.events import CompletedEvent, ProcessingEvent
from core.settings import get_settings
from tests.faults.conftest import children, wait_progress
from tests.support import media
from tests.support.job_events import JobEventLog
from tests.support.private import PrivatePlatform, private_platform
from tests.support.run_checks import check_runs_contiguous, check_stored_by_last_run
from tests.support.waiting import wait_until

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def platform(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    with private_platform(
        run_dir / "frozen",
        workers=2,
        concurrency=1,
        JOB_LEASE_SECONDS="10",
        SWEEP_INTERVAL_SECONDS="1",
        PUBLISH_RETRY_AFTER_SECONDS="1",
        WHISPER_BATCH_SIZE="0",
        WHISPER_BEAM_SIZE="1",
        WHISPER_CPU_THREADS="1",
    ) as platform:
        yield platform


def copy_of(clip: Path, folder: Path, tag: str) -> Path:
    """The same samples in a file of its own (another comment tag): an upload the platform does
    not recognise as one it transcribed already, with the same transcript."""
    return media.convert(clip, folder / f"{clip.stem}-{tag}.wav", "-metadata", f"comment={tag}")


@pytest.fixture(scope="module")
def reference(platform: PrivatePlatform, talk_clip: Path, media_dir: Path) -> str:
    """The clip's transcript from a run nothing interrupted."""
    response = platform.upload(copy_of(talk_clip, media_dir, "frozen-reference"))
    assert response.status_code == 202, response.text
    job = platform.wait_status(response.json()["items"][0]["id"], timeout=180)
    assert job["status"] == "completed", job["error"]
    return str(job["text"])


def running_worker(platform: PrivatePlatform, job_id: str) -> tuple[str, int, int]:
    """The worker running the job: its name, main process and pool process."""
    node = str(platform.job_row(job_id)["worker"])
    name = node.split(".", 1)[0]
    master = platform.processes[name].popen
    assert master is not None
    [pool] = children(master.pid)
    return name, master.pid, pool


@pytest.mark.parametrize("frozen", ["pool process", "whole worker"])
def test_a_frozen_worker_writes_nothing_once_its_job_is_taken_over(
    platform: PrivatePlatform, talk_clip: Path, media_dir: Path, reference: str, frozen: str
) -> None:
    response = platform.upload(copy_of(talk_clip, media_dir, f"frozen-{frozen.replace(' ', '-')}"))
    assert response.status_code == 202, response.text
    job_id = response.json()["items"][0]["id"]
    settings = get_settings()
    log = JobEventLog(settings.redis_url, platform.env["REDIS_PREFIX"], uuid.UUID(job_id))
    try:
        wait_progress(platform, job_id)
        name, master, pool = running_worker(platform, job_id)
        offset = len(platform.processes[name].log())
        if frozen == "pool process":
            os.kill(pool, signal.SIGSTOP)
        else:
            os.killpg(master, signal.SIGSTOP)
        try:

            def taken_over() -> bool:
                row = platform.job_row(job_id)
                return row["attempts"] == 2 and row["status"] == "processing"

            wait_until(taken_over, 60, 0.1, "the other worker to take the job over")
            assert not str(platform.job_row(job_id)["worker"]).startswith(f"{name}.")
        finally:
            if frozen == "pool process":
                os.kill(pool, signal.SIGCONT)
            else:
                os.killpg(master, signal.SIGCONT)

        def gave_up() -> bool:
            return "job stopped" in platform.processes[name].log()[offset:]

        wait_until(gave_up, 30, 0.1, "the woken run to stop")
        job = platform.wait_status(job_id, timeout=180)
        events = log.received()
    finally:
        log.close()

    assert job["status"] == "completed", job["error"]
    assert job["text"] == reference
    assert job["attempts"] == 2
    indexes = [s["index"] for s in job["segments"]]
    assert indexes == list(range(len(indexes)))
    runs = [e for e in events if isinstance(e, ProcessingEvent)]
    assert [(e.attempt, e.restart_reason) for e in runs][-1] == (2, "worker_lost")
    assert len([e for e in events if isinstance(e, CompletedEvent)]) == 1
    check_runs_contiguous(events)
    check_stored_by_last_run(platform, job_id, events)
    woken = platform.processes[name].log()[offset:]
    print(
        f"frozen {frozen}: taken over, woken run stopped "
        f"({'step abandoned, process replaced' if 'replaced pool process' in woken else 'stopped'})"
    )

"""Cancel in the middle of a decoding batch, then retry at once: ten times over, on one job.

A real worker with one pool process decodes with the batched pipeline, two voice-activity
chunks of about 26 s per batch, which takes the bundled model seconds. A cancel sent as soon as
a run has stored its first segments therefore lands inside its second batch, which CTranslate2
cannot interrupt. Each trial cancels the running run, retries the job at once, and follows the
new run over SSE until its first segments. Over all trials:

- the old run stores and sends nothing after the cancel: on the job's Redis channel no event
  older than the `cancelled` one comes after it, and every stored segment belongs to the last
  run;
- each new run starts from 0:00 (index 0, first segment within the first second), as attempt 1
  with `restart_reason` "retried": the abandoned run's message was acknowledged, so nothing was
  redelivered and no attempt was counted;
- the worker is free within 2 s (asserted below 4 s; p50 and max are printed for
  docs/reliability.md): the time from the cancel request until the pool process that ran the
  job is gone. The time until the retried run was claimed (a new pool process forked and its
  model loaded) is printed too;
- the last run completes once, with segments 0..n-1.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.events import CancelledEvent, CompletedEvent, JobEvent, ProcessingEvent
from core.settings import get_settings
from tests.faults.conftest import TALK, children
from tests.support import media
from tests.support.job_events import JobEventLog
from tests.support.private import PrivatePlatform, private_platform
from tests.support.run_checks import check_runs_contiguous, check_stored_by_last_run
from tests.support.sse import Frame, follow
from tests.support.waiting import wait_until

pytestmark = pytest.mark.faults

TRIALS = int(os.environ.get("FAULTS_CANCEL_TRIALS", "10"))
FREE_BOUND_SECONDS = 4.0
"""The goal is 2 s; the assertion leaves room for a loaded machine."""


@pytest.fixture(scope="module")
def platform(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    with private_platform(
        run_dir / "cancel",
        concurrency=1,
        WHISPER_BATCH_SIZE="2",
        WHISPER_BEAM_SIZE="1",
        WHISPER_CPU_THREADS="2",
        CANCEL_CHECK_SECONDS="0.5",
    ) as platform:
        yield platform


@pytest.fixture(scope="module")
def long_talk(media_dir: Path) -> Path:
    """About 2 min 20 s of speech: five or six chunks, three batches."""
    part = media.speech(TALK, media_dir, name="faults-talk-part")
    return media.concat([part] * 8, media_dir / "cancel-talk.wav")


class Gone(threading.Thread):
    """Records when process `pid` is gone (exited, or a zombie waiting to be reaped), unless
    told to stop watching first."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.at: float | None = None
        self.enough = threading.Event()

    def run(self) -> None:
        while not self.enough.wait(0.01):
            try:
                with open(f"/proc/{self.pid}/stat") as stat:
                    if stat.read().rsplit(")", 1)[1].split()[0] != "Z":
                        continue
            except FileNotFoundError:
                pass
            self.at = time.monotonic()
            return


def pool_process(platform: PrivatePlatform) -> int:
    master = platform.processes["worker"].popen
    assert master is not None
    [pid] = children(master.pid)
    return pid


def wait_segments(platform: PrivatePlatform, job_id: str) -> None:
    def stored() -> bool:
        row = platform.job_row(job_id)
        assert row["status"] in {"queued", "processing"}, f"the run ended too soon: {row}"
        return bool(platform.segment_indexes(job_id))

    wait_until(stored, 120, 0.05, "the run's first segments")


def first_segments(platform: PrivatePlatform, job_id: str) -> list[Frame]:
    """An SSE stream opened after the retry, read until the new run's first segments."""

    async def read() -> list[Frame]:
        async with httpx.AsyncClient(base_url=platform.base_url, timeout=120) as client:
            received = await follow(
                client,
                f"/api/transcriptions/{job_id}/events",
                stop=lambda frames: any(f.event == "progress" for f in frames),
                within=120,
            )
        assert received.status == 200
        return received.frames

    return asyncio.run(read())


def check_new_run(frames: list[Frame], cancelled_at: float) -> float:
    """The stream shows the retried run only, from 0:00; returns when its claim was sent."""
    events = [f.event for f in frames]
    assert "cancelled" not in events, events
    [started] = [f for f in frames if f.event == "processing"]
    assert (started.data["attempt"], started.data["restart_reason"]) == (1, "retried")
    segments = [s for f in frames if f.event == "progress" for s in f.data["segments"]]
    assert [s["index"] for s in segments] == list(range(len(segments)))
    assert segments[0]["start"] < 1.0, segments[0]
    return started.received_at - cancelled_at


def test_cancel_mid_batch_then_retry_ten_times(platform: PrivatePlatform, long_talk: Path) -> None:
    response = platform.upload(long_talk)
    assert response.status_code == 202, response.text
    job_id = response.json()["items"][0]["id"]
    settings = get_settings()
    log = JobEventLog(settings.redis_url, platform.env["REDIS_PREFIX"], uuid.UUID(job_id))
    freed: list[float] = []
    claimed: list[float] = []
    try:
        wait_segments(platform, job_id)
        for _ in range(TRIALS):
            pid = pool_process(platform)
            gone = Gone(pid)
            gone.start()
            sent, sent_wall = time.monotonic(), time.time()
            with platform.client() as client:
                cancelled = client.post(f"/api/transcriptions/{job_id}/cancel")
                assert cancelled.status_code == 200, cancelled.text
                retried = client.post(f"/api/transcriptions/{job_id}/retry")
                assert retried.status_code == 200, retried.text
            claimed.append(check_new_run(first_segments(platform, job_id), sent_wall))
            gone.enough.set()
            gone.join(10)
            # A run whose step ended in time stops without its process being replaced: that
            # process was free when it claimed the retried run.
            freed.append(gone.at - sent if gone.at is not None else claimed[-1])
        job = platform.wait_status(job_id, timeout=180)
        events = log.received()
    finally:
        log.close()

    assert job["status"] == "completed", job["error"]
    indexes = [s["index"] for s in job["segments"]]
    assert indexes == list(range(len(indexes)))
    assert "".join(s["text"] for s in job["segments"]).strip() == job["text"]
    check_channel(events, trials=TRIALS)
    check_stored_by_last_run(platform, job_id, events)
    worker_log = platform.processes["worker"].log()
    replaced = worker_log.count("replaced pool process")
    assert "exited with" not in worker_log, "a pool process died without being replaced"
    print(
        f"cancel mid-batch then retry, {TRIALS} trials: worker free after "
        f"p50 {statistics.median(freed):.2f} s, max {max(freed):.2f} s; retried run claimed "
        f"after p50 {statistics.median(claimed):.2f} s, max {max(claimed):.2f} s; "
        f"{replaced} pool processes replaced; {[round(f, 2) for f in freed]}"
    )
    assert max(freed) < FREE_BOUND_SECONDS, freed


def check_channel(events: list[JobEvent], *, trials: int) -> None:
    """The job's Redis channel: after each `cancelled`, nothing of the old run; each run from
    index 0; one `completed` at the end."""
    cancels = [i for i, e in enumerate(events) if isinstance(e, CancelledEvent)]
    assert len(cancels) == trials
    runs = [e for e in events if isinstance(e, ProcessingEvent)]
    assert [(e.attempt, e.restart_reason) for e in runs] == [(1, None)] + [(1, "retried")] * trials
    completed = [e for e in events if isinstance(e, CompletedEvent)]
    assert len(completed) == 1
    assert events[-1] is completed[0]
    for at in cancels:
        cancel = events[at]
        assert isinstance(cancel, CancelledEvent)
        later = events[at + 1 :]
        stale = [e for e in later if e.seq < cancel.seq]
        assert not stale, f"events of the cancelled run after the cancel: {stale}"
    check_runs_contiguous(events)

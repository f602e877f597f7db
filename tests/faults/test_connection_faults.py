"""Lost connections: RabbitMQ, Postgres and Redis cut (by proxy) while jobs are uploaded or run."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.conftest import TALK, Faulty, wait_progress
from tests.support import media
from tests.support.private import PrivatePlatform
from tests.support.waiting import wait_until

pytestmark = pytest.mark.faults

WORKER_CONCURRENCY = 2


def _clips(media_dir: Path, count: int, label: str) -> list[Path]:
    return [
        media.speech(f"Recording number {n} about the {label}.", media_dir, name=f"{label}-{n}")
        for n in range(count)
    ]


def _upload(platform: PrivatePlatform, paths: list[Path]) -> list[str]:
    response = platform.upload(*paths, dedup="false")  # every job a real run
    assert response.status_code == 202, response.text
    return [item["id"] for item in response.json()["items"]]


def _assert_completed_once(platform: PrivatePlatform, job_id: str) -> dict[str, Any]:
    job = platform.wait_status(job_id, timeout=180)
    assert job["status"] == "completed", job["error"]
    assert job["text"]
    indexes = [s["index"] for s in job["segments"]]
    assert indexes == list(range(len(indexes)))
    assert platform.segment_indexes(job_id) == indexes
    assert "".join(s["text"] for s in job["segments"]).strip() == job["text"]
    return job


def _wait_logged(platform: PrivatePlatform, name: str, since: int, text: str, what: str) -> None:
    """Wait until the log of process `name`, past character `since`, contains `text`."""
    process = platform.processes[name]
    wait_until(lambda: text in process.log()[since:], 60, 0.1, what)


def test_broker_unreachable_during_upload_jobs_are_published_later(
    faulty: Faulty, media_dir: Path
) -> None:
    platform, broker = faulty.platform, faulty.proxies.rabbitmq
    broker.cut()
    started = time.monotonic()
    ids = _upload(platform, _clips(media_dir, 5, "outage"))
    upload_seconds = time.monotonic() - started
    for job_id in ids:
        row = platform.job_row(job_id)
        assert row["status"] == "queued"
        assert row["enqueued_at"] is None  # committed, never confirmed by the broker
    api = platform.processes["api"]

    def publish_failures() -> int:
        lines = api.log().splitlines()
        return sum(1 for line in lines for job_id in ids if f"publishing job {job_id}" in line)

    # The upload tried each job once; a further failure is the sweeper trying again.
    wait_until(lambda: publish_failures() > len(ids), 60, 0.1, "the sweeper to retry")
    assert all(platform.job_row(job_id)["status"] == "queued" for job_id in ids)
    broker.restore()
    done = [_assert_completed_once(platform, job_id) for job_id in ids]
    assert all(job["attempts"] == 1 for job in done)
    print(f"broker down at upload: {len(done)}/5 completed (upload took {upload_seconds:.1f} s)")


def test_broker_cut_while_two_jobs_run_and_five_wait(
    faulty: Faulty, media_dir: Path, talk_clip: Path
) -> None:
    platform, broker = faulty.platform, faulty.proxies.rabbitmq
    ids = _upload(platform, [talk_clip, talk_clip, *_clips(media_dir, 5, "waiting")])
    running = ids[:2]
    for job_id in running:
        wait_progress(platform, job_id)
    since = len(platform.processes["worker"].log())
    broker.cut()
    # The outage lasts until the worker has lost its broker connection mid-job.
    _wait_logged(platform, "worker", since, "Connection to broker lost", "the worker to see it")
    broker.restore()
    done = [_assert_completed_once(platform, job_id) for job_id in ids]
    for job in done[:2]:
        assert media.word_error_rate(TALK * 2, job["text"]) <= 0.2, job["text"]
    assert all(job["attempts"] <= 2 for job in done)
    attempts = [job["attempts"] for job in done]
    print(f"broker cut mid-job: {len(done)}/7 completed exactly once; attempts {attempts}")


def test_database_connection_cut_mid_job(faulty: Faulty, talk_clip: Path) -> None:
    platform, database = faulty.platform, faulty.proxies.postgres
    [job_id] = _upload(platform, [talk_clip])
    wait_progress(platform, job_id)
    since = len(platform.processes["worker"].log())
    database.cut()
    # The running job meets the outage (its next write or lease renewal fails) ...
    _wait_logged(platform, "worker", since, "OperationalError", "the job to meet the outage")
    # ... and is still processing, not failed.
    assert platform.job_row(job_id)["status"] == "processing"
    database.restore()
    job = _assert_completed_once(platform, job_id)
    assert media.word_error_rate(TALK * 2, job["text"]) <= 0.2, job["text"]
    print(f"database cut mid-job: completed after {job['attempts']} attempt(s)")


class SseClient(threading.Thread):
    """Follows `/api/events?ids=…` and keeps every event, reconnecting if the stream ends."""

    def __init__(self, platform: PrivatePlatform, ids: list[str]) -> None:
        super().__init__(daemon=True)
        self.url = f"{platform.base_url}/api/events?ids={','.join(ids)}"
        self.headers = platform.headers
        self.events: list[dict[str, Any]] = []
        self.stop = threading.Event()

    def completed(self) -> set[str]:
        return {e["id"] for e in list(self.events) if e.get("type") == "completed"}

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with httpx.stream("GET", self.url, headers=self.headers, timeout=10) as stream:
                    for line in stream.iter_lines():
                        if line.startswith("data:"):
                            self.events.append(json.loads(line.removeprefix("data:")))
                        if self.stop.is_set():
                            return
            except httpx.HTTPError:
                time.sleep(0.5)  # kept: a client's pause before it reconnects


def test_redis_down_for_30_seconds_during_three_jobs(
    faulty: Faulty, talk_clip: Path, media_dir: Path
) -> None:
    platform, redis = faulty.platform, faulty.proxies.redis
    ids = _upload(platform, [talk_clip, *_clips(media_dir, 2, "redis")])
    clients = [SseClient(platform, ids) for _ in range(2)]
    for client in clients:
        client.start()
    wait_until(lambda: all(c.events for c in clients), 30, what="the SSE streams to start")
    redis.cut()
    outage_started = time.monotonic()
    try:
        done = [_assert_completed_once(platform, job_id) for job_id in ids]
        seen_during_outage = [
            wait_until(lambda c=c: c.completed() == set(ids), 30, what="completed over SSE")
            for c in clients
        ]
        # Kept: the scenario is an outage of 30 s, whatever the jobs did meanwhile.
        time.sleep(max(0.0, 30 - (time.monotonic() - outage_started)))
    finally:
        redis.restore()
    for client in clients:
        client.stop.set()
    assert len(done) == 3
    assert all(seen_during_outage)
    print(f"Redis down 30 s: 3/3 completed; {len(clients)} SSE clients saw every `completed`")

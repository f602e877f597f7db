"""Scheduling on the real stack: priorities, fair share between owners, positions and estimates.

One worker with one slot. A test holds that slot with a stand-in run (a processing row on the
worker's node, as a long job would), queues its jobs behind it, reads their positions, then
ends the stand-in run and watches the order the jobs really start in.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from core.db import Database
from core.models import Transcription, utcnow
from core.queue import JobQueue
from core.settings import Settings
from core.workers import read_beats
from tests.support.job_rows import new_job
from tests.support.private import PrivatePlatform, private_platform
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

KEY_A = "a" * 24
KEY_B = "b" * 24
ADMIN = "c" * 24


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePlatform]:
    with private_platform(
        tmp_path_factory.mktemp("scheduling"),
        concurrency=1,
        headers={"Authorization": f"Bearer {ADMIN}"},
        API_KEYS=f"alice:{KEY_A},bob:{KEY_B}",
        ADMIN_API_KEYS=f"ops:{ADMIN}",
        API_KEY_PRIORITIES="bob=normal",
        WORKER_HEARTBEAT_SECONDS="1",
        DISPATCH_TIMEOUT_SECONDS="10",
    ) as platform:
        yield platform


@pytest.fixture(scope="module")
def clip(speech_file: Any) -> Path:
    return Path(speech_file("One two three four.", name="scheduling-clip"))


def _upload(platform: PrivatePlatform, key: str, paths: list[Path], **fields: str) -> list[str]:
    files = [("files", (p.name, p.read_bytes())) for p in paths]
    with platform.client(headers={"Authorization": f"Bearer {key}"}) as client:
        response = client.post(
            "/api/transcriptions", files=files, data={"dedup": "false", **fields}
        )
    assert response.status_code == 202, response.text
    return [item["id"] for item in response.json()["items"]]


def _get(platform: PrivatePlatform, key: str, job_id: str) -> dict[str, Any]:
    with platform.client(headers={"Authorization": f"Bearer {key}"}) as client:
        response = client.get(f"/api/transcriptions/{job_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _node(platform: PrivatePlatform) -> str:
    client = redis.Redis.from_url(platform.env["REDIS_URL"])
    try:
        beats = wait_until(
            lambda: read_beats(client, platform.env["REDIS_PREFIX"]), 30, 0.2, "a heartbeat"
        )
    finally:
        client.close()
    return str(beats[0].node)


def _hold_slot(platform: PrivatePlatform) -> uuid.UUID:
    """A processing row on the worker's node: its one slot is taken."""
    db = Database.from_url(platform.database_url)
    try:
        return new_job(
            db,
            owner="holder",
            status="processing",
            worker=_node(platform),
            started_at=utcnow(),
            lease_expires_at=utcnow() + timedelta(hours=1),
            attempts=1,
        )
    finally:
        db.dispose()


def _release(platform: PrivatePlatform, holder: uuid.UUID) -> None:
    with platform.session() as session:
        job = session.get(Transcription, holder)
        assert job is not None
        job.status = "completed"
        job.completed_at = utcnow()
        job.lease_expires_at = None
        session.add(job)


def _started_order(platform: PrivatePlatform, ids: list[str]) -> list[str]:
    def all_done() -> list[dict[str, Any]] | None:
        rows = [platform.job_row(job_id) for job_id in ids]
        return rows if all(r["status"] == "completed" for r in rows) else None

    rows = wait_until(all_done, 180, 0.2, "every job to complete")
    return [str(r["id"]) for r in sorted(rows, key=lambda r: r["started_at"])]


def _wait_done(platform: PrivatePlatform, key: str, job_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        job = _get(platform, key, job_id)
        return job if job["status"] in ("completed", "failed", "cancelled") else None

    return dict(wait_until(done, 120, 0.1, f"job {job_id} to end"))


def _warm_up(platform: PrivatePlatform, clip: Path) -> None:
    """One completed run: the model's speed is measured from then on."""
    [job_id] = _upload(platform, KEY_A, [clip])
    assert _wait_done(platform, KEY_A, job_id)["status"] == "completed"


def test_a_high_job_uploaded_last_starts_before_six_waiting_normal_ones(
    platform: PrivatePlatform, clip: Path
) -> None:
    _warm_up(platform, clip)
    holder = _hold_slot(platform)
    normal = [_upload(platform, KEY_A, [clip])[0] for _ in range(6)]
    [high] = _upload(platform, KEY_A, [clip], priority="high")

    def settled() -> list[dict[str, Any]] | None:
        jobs = [_get(platform, KEY_A, job_id) for job_id in [high, *normal]]
        positions = [job["position"] for job in jobs]
        return jobs if positions == list(range(1, 8)) else None

    jobs = wait_until(settled, 30, 0.2, "positions 1-7, the high job first")
    assert [job["priority"] for job in jobs] == ["high"] + ["normal"] * 6
    assert all(job["status"] == "queued" for job in jobs)
    starts = [job["eta"]["starts_at"] for job in jobs]
    finishes = [job["eta"]["finishes_at"] for job in jobs]
    assert all(starts), jobs
    assert all(finishes), jobs
    assert starts == sorted(starts)
    assert all(s < f for s, f in zip(starts, finishes, strict=True))

    _release(platform, holder)
    started = _started_order(platform, [high, *normal])
    # The order the positions promised is the order the jobs started in.
    assert started == [job["id"] for job in jobs]


def test_an_owner_with_one_job_starts_within_two_starts_of_another_with_fifty(
    platform: PrivatePlatform, clip: Path
) -> None:
    holder = _hold_slot(platform)
    many = _upload(platform, KEY_A, [clip] * 50)
    [single] = _upload(platform, KEY_B, [clip])
    wait_until(
        lambda: _get(platform, KEY_B, single)["position"] in (1, 2), 30, 0.2, "bob's position"
    )
    position = _get(platform, KEY_B, single)["position"]
    _release(platform, holder)
    done = _wait_done(platform, KEY_B, single)
    assert done["status"] == "completed"
    started = platform.job_row(single)["started_at"]
    before = [i for i in many if (platform.job_row(i)["started_at"] or started) < started]
    # Bob's place was right, and it was within the next two starts.
    assert len(before) == position - 1 <= 1
    with platform.client(headers={"Authorization": f"Bearer {KEY_A}"}) as client:
        for job_id in many:
            client.post(f"/api/transcriptions/{job_id}/cancel")


def test_a_dispatched_job_whose_message_was_lost_runs_and_a_duplicate_changes_nothing(
    platform: PrivatePlatform, clip: Path
) -> None:
    holder = _hold_slot(platform)
    [job_id] = _upload(platform, KEY_A, [clip])
    with platform.session() as session:
        job = session.get(Transcription, uuid.UUID(job_id))
        assert job is not None
        assert job.enqueued_at is None  # the slot is taken: not dispatched
        # As if it had been dispatched long ago and the broker had lost the message.
        job.enqueued_at = utcnow() - timedelta(hours=1)
        session.add(job)
    _release(platform, holder)
    done = _wait_done(platform, KEY_A, job_id)
    assert (done["status"], done["attempts"]) == ("completed", 1)

    # The first message turning up after all: the claim finds the job finished.
    settings = Settings(
        queue_name=platform.env["QUEUE_NAME"], broker_url=platform.env["BROKER_URL"]
    )
    queue = JobQueue(settings)
    try:
        assert queue.enqueue(uuid.UUID(job_id), "tiny.en")
    finally:
        queue.close()
    worker = platform.processes["worker"]
    wait_until(lambda: "not running job: already completed" in worker.log(), 30, 0.2, "the skip")
    again = _get(platform, KEY_A, job_id)
    assert (again["status"], again["attempts"], again["seq"]) == ("completed", 1, done["seq"])

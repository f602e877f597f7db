"""The job state machine in-process against the real Postgres: creating, claiming (every
branch), recording segments, renewing, completing and failing a run. Cancel, retry, requeue,
remove and the reads: `test_lifecycle_changes.py`; the sweeper: `test_sweeper_inprocess.py`.

Each test runs in a transaction rolled back at its end (`tx_db`); every step is its own
`db.session()`, committed as the API or the worker would commit it. Other tests' committed rows
are visible in the run's database, so assertions are about this test's own jobs (or deltas).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from core import lifecycle
from core.db import Database
from core.events import (
    CompletedEvent,
    FailedEvent,
    ProcessingEvent,
    QueuedEvent,
)
from core.models import Segment, Transcription, utcnow
from tests.support.job_rows import (
    DURATION,
    LEASE,
    MAX_ATTEMPTS,
    cancelled,
    claimed,
    deleted,
    lease_alive,
    lease_expired,
    lease_missing,
    new_job,
    record,
    retried,
    row,
    seg,
    stored,
    take,
    taken_over,
    within,
)

pytestmark = pytest.mark.integration


# --- create, mark_enqueued ------------------------------------------------------------------


def test_create_queues_the_job_at_seq_one(tx_db: Database) -> None:
    with tx_db.session() as session:
        job = Transcription(
            filename="a.wav",
            storage_key=uuid.uuid4().hex,
            size_bytes=3,
            sha256="1" * 64,
            model="tiny.en",
            status="completed",
            last_seq=9,
        )
        event = lifecycle.create(session, job)
    assert isinstance(event, QueuedEvent)
    assert (event.id, event.seq, event.status, event.progress) == (job.id, 1, "queued", 0.0)
    stored_row = row(tx_db, job.id)
    assert (stored_row.status, stored_row.last_seq, stored_row.enqueued_at) == ("queued", 1, None)


def test_mark_enqueued_records_the_broker_confirmation_of_queued_jobs_only(
    tx_db: Database,
) -> None:
    queued = new_job(tx_db)
    processing = new_job(tx_db)
    claimed(tx_db, processing)
    before = utcnow()
    with tx_db.session() as session:
        lifecycle.mark_enqueued(session, queued)
        lifecycle.mark_enqueued(session, processing)
    assert within(row(tx_db, queued).enqueued_at, before, utcnow())
    assert row(tx_db, processing).enqueued_at is None


# --- claim ----------------------------------------------------------------------------------


def test_claim_starts_attempt_one_from_a_clean_slate(tx_db: Database) -> None:
    job_id = new_job(
        tx_db, progress=0.4, text="left over", error_code="x", error_message="left over"
    )
    with tx_db.session() as session:
        session.add(Segment(transcription_id=job_id, index=0, start=0, end=1, text="left over"))
    before = utcnow()
    result = take(tx_db, job_id, worker="worker-a")
    after = utcnow()

    assert result.reason == "claimed"
    claim = result.claim
    assert claim is not None
    job = row(tx_db, job_id)
    assert (claim.job_id, claim.attempt, claim.run_id) == (job_id, 1, job.run_id)
    assert (claim.storage_key, claim.duration_seconds) == (job.storage_key, DURATION)
    assert claim.options == job.options
    assert (job.status, job.attempts, job.worker, job.last_seq) == ("processing", 1, "worker-a", 2)
    assert (job.progress, job.text, job.error_code, job.error_message) == (0.0, None, None, None)
    assert job.restart_reason is None
    assert within(job.started_at, before, after)
    assert within(
        job.lease_expires_at, before + timedelta(seconds=LEASE), after + timedelta(seconds=LEASE)
    )
    assert stored(tx_db, job_id) == []
    [event] = result.events
    assert isinstance(event, ProcessingEvent)
    assert (event.seq, event.attempt, event.duration_seconds, event.restart_reason) == (
        2,
        1,
        DURATION,
        None,
    )


def test_claim_of_a_deleted_job_says_so(tx_db: Database) -> None:
    result = take(tx_db, uuid.uuid4())
    assert (result.claim, result.events, result.reason) == (None, [], "deleted")


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_claim_of_a_finished_job_changes_nothing(tx_db: Database, status: str) -> None:
    job_id = new_job(tx_db, status=status, last_seq=5)
    result = take(tx_db, job_id, redelivered=True)
    assert (result.claim, result.events, result.reason) == (None, [], f"already {status}")
    job = row(tx_db, job_id)
    assert (job.status, job.last_seq, job.attempts) == (status, 5, 0)


def test_claim_leaves_a_job_whose_lease_is_alive_to_its_worker(tx_db: Database) -> None:
    job_id = new_job(tx_db)
    first = claimed(tx_db, job_id, worker="worker-a")
    with tx_db.session() as session:
        session.add(Segment(transcription_id=job_id, index=0, start=0, end=1, text=" kept."))
    result = take(tx_db, job_id, worker="worker-b", redelivered=False)
    assert (result.claim, result.events, result.reason) == (None, [], "running elsewhere")
    job = row(tx_db, job_id)
    assert (job.worker, job.attempts, job.run_id) == ("worker-a", 1, first.run_id)
    assert [s.text for s in stored(tx_db, job_id)] == [" kept."]


@pytest.mark.parametrize(
    ("lease", "redelivered"),
    [(lease_alive, True), (lease_expired, False), (lease_missing, False)],
    ids=["redelivered-while-alive", "lease-expired", "no-lease"],
)
def test_claim_takes_over_a_lost_run_as_the_next_attempt(
    tx_db: Database, lease: Any, redelivered: bool
) -> None:
    job_id = new_job(tx_db)
    first = claimed(tx_db, job_id, worker="worker-a")
    assert record(tx_db, first, seg(0, 0, 5)) is not None
    lease(tx_db, job_id)

    result = take(tx_db, job_id, worker="worker-b", redelivered=redelivered)
    second = result.claim
    assert second is not None
    assert result.reason == "claimed"
    assert second.attempt == 2
    assert second.run_id != first.run_id
    job = row(tx_db, job_id)
    assert (job.worker, job.attempts, job.progress, job.restart_reason) == (
        "worker-b",
        2,
        0.0,
        "worker_lost",
    )
    assert stored(tx_db, job_id) == [], "the lost run's segments are dropped"
    [event] = result.events
    assert isinstance(event, ProcessingEvent)
    assert (event.attempt, event.restart_reason, event.seq) == (2, "worker_lost", 4)


@pytest.mark.parametrize("status", ["queued", "processing"])
def test_claim_fails_a_job_out_of_attempts(tx_db: Database, status: str) -> None:
    job_id = new_job(
        tx_db,
        status=status,
        attempts=MAX_ATTEMPTS,
        lease_expires_at=utcnow() - timedelta(seconds=1),
    )
    result = take(tx_db, job_id, redelivered=True)
    assert (result.claim, result.reason) == (None, "out of attempts")
    [event] = result.events
    assert isinstance(event, FailedEvent)
    assert event.error.code == "too_many_attempts"
    assert "3 times" in event.error.message
    job = row(tx_db, job_id)
    assert (job.status, job.attempts, job.error_code, job.lease_expires_at) == (
        "failed",
        MAX_ATTEMPTS,
        "too_many_attempts",
        None,
    )
    assert job.completed_at is not None
    assert event.seq == job.last_seq == 2


# --- record_segments, renew_lease -----------------------------------------------------------


def test_record_segments_upserts_by_index_and_moves_progress_forward(tx_db: Database) -> None:
    job_id = new_job(tx_db)
    claim = claimed(tx_db, job_id, lease=60)
    words = [{"start": 0.0, "end": 0.5, "word": " One", "probability": 0.9}]

    before = utcnow()
    first = record(tx_db, claim, seg(0, 0, 2, " One.", words=words), seg(1, 2, 4), lease=3600)
    assert first is not None
    assert (first.seq, first.progress, first.status) == (3, 0.4, "processing")
    assert first.segment == seg(1, 2, 4)
    assert first.segments == [seg(0, 0, 2, " One.", words=words), seg(1, 2, 4)]
    job = row(tx_db, job_id)
    assert (job.last_seq, job.progress) == (3, 0.4)
    assert job.lease_expires_at is not None
    assert job.lease_expires_at >= before + timedelta(seconds=3600), "the lease is extended"

    second = record(tx_db, claim, seg(1, 2, 5, " Two, again."), seg(2, 5, 6))
    assert second is not None
    assert (second.seq, second.progress) == (4, 0.6)
    rows = stored(tx_db, job_id)
    assert [(s.index, s.seq, s.start, s.end, s.text) for s in rows] == [
        (0, 3, 0.0, 2.0, " One."),
        (1, 4, 2.0, 5.0, " Two, again."),
        (2, 4, 5.0, 6.0, " part 2."),
    ]
    assert rows[0].words == words
    assert rows[1].words is None

    behind = record(tx_db, claim, seg(3, 1, 3))
    assert behind is not None
    assert behind.progress == 0.6, "progress never goes back"
    past_the_end = record(tx_db, claim, seg(4, 9, 12))
    assert past_the_end is not None
    assert past_the_end.progress == 0.999, "1.0 is for a completed job"


def test_record_segments_without_a_known_duration_leaves_progress_at_zero(
    tx_db: Database,
) -> None:
    job_id = new_job(tx_db, duration_seconds=None)
    claim = claimed(tx_db, job_id)
    event = record(tx_db, claim, seg(0, 0, 5))
    assert event is not None
    assert event.progress == 0.0
    assert [s.index for s in stored(tx_db, job_id)] == [0]


SUPERSEDED = pytest.mark.parametrize(
    "supersede",
    [cancelled, taken_over, retried, deleted],
    ids=["cancelled", "taken-over", "retried", "deleted"],
)


@SUPERSEDED
def test_a_superseded_run_can_write_nothing(tx_db: Database, supersede: Any) -> None:
    job_id = new_job(tx_db)
    claim = claimed(tx_db, job_id)
    supersede(tx_db, job_id)
    with tx_db.session() as session:
        before = session.get(Transcription, job_id)
        seen = None if before is None else (before.status, before.last_seq, before.run_id)

    assert record(tx_db, claim, seg(0, 0, 5)) is None
    with tx_db.session() as session:
        assert not lifecycle.renew_lease(session, claim, LEASE)
        assert lifecycle.complete(session, claim, text="x", language="en", duration=5) == []
        assert lifecycle.fail_claimed(session, claim, "media_missing", "gone") == []
        after = session.get(Transcription, job_id)
    assert (None if after is None else (after.status, after.last_seq, after.run_id)) == seen
    assert stored(tx_db, job_id) == []


def test_renew_lease_extends_the_lease_of_the_running_claim(tx_db: Database) -> None:
    job_id = new_job(tx_db)
    claim = claimed(tx_db, job_id, lease=60)
    before = utcnow()
    with tx_db.session() as session:
        assert lifecycle.renew_lease(session, claim, 3600)
    job = row(tx_db, job_id)
    assert job.lease_expires_at is not None
    assert job.lease_expires_at >= before + timedelta(seconds=3600)
    assert job.last_seq == 2, "a renewal is no event"


# --- complete, fail_claimed -----------------------------------------------------------------


def test_complete_stores_the_result_and_ends_the_lease(tx_db: Database) -> None:
    job_id = new_job(tx_db)
    claim = claimed(tx_db, job_id)
    record(tx_db, claim, seg(0, 0, 5, " Hello."))
    before = utcnow()
    with tx_db.session() as session:
        events = lifecycle.complete(session, claim, text="Hello.", language="de", duration=9.5)
    [event] = events
    assert isinstance(event, CompletedEvent)
    assert (event.seq, event.status, event.progress) == (4, "completed", 1.0)
    assert (event.text, event.language, event.duration_seconds) == ("Hello.", "de", 9.5)
    job = row(tx_db, job_id)
    assert (job.status, job.text, job.language, job.duration_seconds, job.progress) == (
        "completed",
        "Hello.",
        "de",
        9.5,
        1.0,
    )
    assert job.lease_expires_at is None
    assert within(job.completed_at, before, utcnow())
    assert [s.text for s in stored(tx_db, job_id)] == [" Hello."]


def test_complete_without_a_duration_keeps_the_uploaded_one(tx_db: Database) -> None:
    job_id = new_job(tx_db)
    claim = claimed(tx_db, job_id)
    with tx_db.session() as session:
        lifecycle.complete(session, claim, text="", language=None, duration=None)
    job = row(tx_db, job_id)
    assert (job.status, job.duration_seconds, job.language, job.text) == (
        "completed",
        DURATION,
        None,
        "",
    )


def test_fail_claimed_fails_the_running_job_with_its_code(tx_db: Database) -> None:
    job_id = new_job(tx_db)
    claim = claimed(tx_db, job_id)
    with tx_db.session() as session:
        [event] = lifecycle.fail_claimed(session, claim, "undecodable_audio", "Bad audio.")
    assert isinstance(event, FailedEvent)
    assert (event.seq, event.error.code, event.error.message) == (
        3,
        "undecodable_audio",
        "Bad audio.",
    )
    job = row(tx_db, job_id)
    assert (job.status, job.error, job.lease_expires_at) == (
        "failed",
        {"code": "undecodable_audio", "message": "Bad audio."},
        None,
    )
    assert job.completed_at is not None

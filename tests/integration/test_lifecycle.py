"""The job state machine (`core.lifecycle`) and the sweeper, in-process against the real Postgres.

Each test runs in a transaction rolled back at its end (`tx_db`); every step is its own
`db.session()`, committed as the API or the worker would commit it. Other tests' committed rows
are visible in the run's database, so assertions are about this test's own jobs (or deltas).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core import lifecycle
from core.db import Database
from core.errors import Conflict, NotFound
from core.events import (
    CancelledEvent,
    CompletedEvent,
    FailedEvent,
    ProcessingEvent,
    ProgressEvent,
    QueuedEvent,
    SegmentOut,
)
from core.models import Segment, Transcription, utcnow
from core.queue import JobQueue
from core.settings import Settings, get_settings
from core.states import JobStatus
from core.sweeper import _LOCK_KEY, SweepReport, sweep_once
from tests.support.job_events import JobEventLog
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

LEASE = 600
MAX_ATTEMPTS = 3
DURATION = 10.0


def new_job(db: Database, **fields: Any) -> uuid.UUID:
    """A queued job (as an upload creates it); `fields` are then set on the row as they are."""
    with db.session() as session:
        job = Transcription(
            filename="meeting.wav",
            storage_key=uuid.uuid4().hex,
            size_bytes=1,
            sha256="0" * 64,
            model="tiny.en",
            duration_seconds=DURATION,
        )
        lifecycle.create(session, job)
        for name, value in fields.items():
            setattr(job, name, value)
        session.add(job)
        return job.id


def row(db: Database, job_id: uuid.UUID) -> Transcription:
    with db.session() as session:
        return lifecycle.get(session, job_id)


def stored(db: Database, job_id: uuid.UUID, *, after_seq: int = 0) -> list[Segment]:
    with db.session() as session:
        return lifecycle.segments_of(session, job_id, after_seq=after_seq)


def take(
    db: Database,
    job_id: uuid.UUID,
    *,
    redelivered: bool = False,
    worker: str = "worker-a",
    lease: int = LEASE,
) -> lifecycle.ClaimResult:
    with db.session() as session:
        return lifecycle.claim(
            session,
            job_id,
            worker=worker,
            redelivered=redelivered,
            max_attempts=MAX_ATTEMPTS,
            lease_seconds=lease,
        )


def claimed(db: Database, job_id: uuid.UUID, **options: Any) -> lifecycle.Claim:
    result = take(db, job_id, **options)
    assert result.claim is not None, result.reason
    return result.claim


def seg(index: int, start: float, end: float, text: str = "", **extra: Any) -> SegmentOut:
    return SegmentOut(index=index, start=start, end=end, text=text or f" part {index}.", **extra)


def record(
    db: Database, claim: lifecycle.Claim, *segments: SegmentOut, lease: int = LEASE
) -> ProgressEvent | None:
    with db.session() as session:
        return lifecycle.record_segments(session, claim, list(segments), lease)


def within(value: datetime | None, start: datetime, end: datetime) -> bool:
    return value is not None and start <= value <= end


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


def _lease_alive(db: Database, job_id: uuid.UUID) -> None:
    """The lease is in the future (as the previous claim left it)."""


def _lease_expired(db: Database, job_id: uuid.UUID) -> None:
    with db.session() as session:
        job = lifecycle.get(session, job_id)
        job.lease_expires_at = utcnow() - timedelta(seconds=1)
        session.add(job)


def _lease_missing(db: Database, job_id: uuid.UUID) -> None:
    with db.session() as session:
        job = lifecycle.get(session, job_id)
        job.lease_expires_at = None
        session.add(job)


@pytest.mark.parametrize(
    ("lease", "redelivered"),
    [(_lease_alive, True), (_lease_expired, False), (_lease_missing, False)],
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


def _cancelled(db: Database, job_id: uuid.UUID) -> None:
    with db.session() as session:
        lifecycle.cancel(session, job_id)


def _taken_over(db: Database, job_id: uuid.UUID) -> None:
    claimed(db, job_id, redelivered=True, worker="worker-b")


def _retried(db: Database, job_id: uuid.UUID) -> None:
    """Cancelled, retried and claimed again: attempt 1 again, another run id."""
    _cancelled(db, job_id)
    with db.session() as session:
        lifecycle.retry(session, job_id)
    claimed(db, job_id, worker="worker-b")


def _deleted(db: Database, job_id: uuid.UUID) -> None:
    with db.session() as session:
        lifecycle.remove(session, job_id)


SUPERSEDED = pytest.mark.parametrize(
    "supersede",
    [_cancelled, _taken_over, _retried, _deleted],
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


# --- cancel, retry, requeue, remove ---------------------------------------------------------


@pytest.mark.parametrize("claim_first", [False, True], ids=["queued", "processing"])
def test_cancel_ends_a_waiting_or_running_job(tx_db: Database, claim_first: bool) -> None:
    job_id = new_job(tx_db)
    if claim_first:
        claimed(tx_db, job_id)
    with tx_db.session() as session:
        job, [event] = lifecycle.cancel(session, job_id)
    assert isinstance(event, CancelledEvent)
    assert (event.status, event.deleted, event.seq) == ("cancelled", False, job.last_seq)
    stored_row = row(tx_db, job_id)
    assert (stored_row.status, stored_row.lease_expires_at) == ("cancelled", None)
    assert stored_row.completed_at is not None


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_cancel_of_a_finished_job_is_a_conflict(tx_db: Database, status: str) -> None:
    job_id = new_job(tx_db, status=status, last_seq=4)
    with pytest.raises(Conflict) as raised, tx_db.session() as session:
        lifecycle.cancel(session, job_id)
    assert (raised.value.code, raised.value.status_code) == ("invalid_state", 409)
    assert raised.value.message == f"The transcription is already {status}."
    job = row(tx_db, job_id)
    assert (job.status, job.last_seq) == (status, 4)


@pytest.mark.parametrize("function", [lifecycle.cancel, lifecycle.retry, lifecycle.remove])
def test_changing_a_missing_job_is_not_found(tx_db: Database, function: Any) -> None:
    with pytest.raises(NotFound) as raised, tx_db.session() as session:
        function(session, uuid.uuid4())
    assert raised.value.status_code == 404


@pytest.mark.parametrize("end", ["failed", "cancelled"])
def test_retry_requeues_a_failed_or_cancelled_job_with_fresh_attempts(
    tx_db: Database, end: str
) -> None:
    job_id = new_job(tx_db)
    claim = claimed(tx_db, job_id)
    record(tx_db, claim, seg(0, 0, 5))
    with tx_db.session() as session:
        if end == "failed":
            lifecycle.fail_claimed(session, claim, "undecodable_audio", "Bad audio.")
        else:
            lifecycle.cancel(session, job_id)
    with tx_db.session() as session:
        job, [event] = lifecycle.retry(session, job_id)
    assert isinstance(event, QueuedEvent)
    assert (event.seq, event.progress) == (job.last_seq, 0.0)
    job = row(tx_db, job_id)
    assert (job.status, job.attempts, job.restart_reason, job.worker) == (
        "queued",
        0,
        "retried",
        None,
    )
    assert (job.progress, job.text, job.error_code, job.error_message) == (0.0, None, None, None)
    assert (job.enqueued_at, job.started_at, job.completed_at, job.lease_expires_at) == (
        None,
        None,
        None,
        None,
    )
    assert stored(tx_db, job_id) == []


@pytest.mark.parametrize("status", ["queued", "processing", "completed"])
def test_only_failed_or_cancelled_jobs_can_be_retried(tx_db: Database, status: str) -> None:
    job_id = new_job(tx_db, status=status)
    with pytest.raises(Conflict) as raised, tx_db.session() as session:
        lifecycle.retry(session, job_id)
    assert raised.value.code == "invalid_state"
    assert status in raised.value.message
    assert row(tx_db, job_id).status == status


def test_requeue_of_a_lost_run_keeps_its_attempts(tx_db: Database) -> None:
    job_id = new_job(tx_db)
    claim = claimed(tx_db, job_id)
    record(tx_db, claim, seg(0, 0, 5))
    with tx_db.session() as session:
        job = lifecycle.get(session, job_id, lock=True)
        [event] = lifecycle.requeue(session, job, reason=lifecycle.RESTART_WORKER_LOST)
    assert isinstance(event, QueuedEvent)
    job = row(tx_db, job_id)
    assert (job.status, job.attempts, job.restart_reason, job.lease_expires_at, job.worker) == (
        "queued",
        1,
        "worker_lost",
        None,
        None,
    )
    assert stored(tx_db, job_id) == []
    again = take(tx_db, job_id)
    assert again.claim is not None
    assert again.claim.attempt == 2
    [started] = again.events
    assert isinstance(started, ProcessingEvent)
    assert started.restart_reason == "worker_lost"


def test_a_completed_job_cannot_be_requeued(tx_db: Database) -> None:
    job_id = new_job(tx_db, status="completed", last_seq=4)
    with tx_db.session() as session:
        job = lifecycle.get(session, job_id, lock=True)
        with pytest.raises(Conflict) as raised:
            lifecycle.requeue(session, job, reason=lifecycle.RESTART_WORKER_LOST)
    assert raised.value.code == "invalid_state"
    assert raised.value.message == "A completed transcription cannot become queued."
    assert (row(tx_db, job_id).status, row(tx_db, job_id).last_seq) == ("completed", 4)


def test_remove_deletes_the_job_and_its_segments(tx_db: Database) -> None:
    job_id = new_job(tx_db)
    claim = claimed(tx_db, job_id)
    record(tx_db, claim, seg(0, 0, 5))
    with tx_db.session() as session:
        removed = lifecycle.remove(session, job_id)
    assert removed.id == job_id
    with tx_db.session() as session:
        assert session.get(Transcription, job_id) is None
        left = session.execute(
            sa.select(sa.func.count())
            .where(sa.column("transcription_id") == job_id)
            .select_from(sa.table("segments"))
        ).scalar_one()
    assert left == 0, "the segments go with their job"


# --- reads: unpublished, expired_leases, segments_of, count_by_status -------------------------


def test_unpublished_lists_old_queued_jobs_the_broker_never_confirmed(tx_db: Database) -> None:
    now = utcnow()
    old, older = now - timedelta(hours=2), now - timedelta(hours=3)
    waiting = new_job(tx_db, created_at=old)
    waiting_longer = new_job(tx_db, created_at=older)
    confirmed = new_job(tx_db, created_at=old, enqueued_at=old)
    young = new_job(tx_db)
    running = new_job(tx_db, created_at=old)
    claimed(tx_db, running)

    with tx_db.session() as session:
        listed = lifecycle.unpublished(session, now - timedelta(hours=1))
        first = lifecycle.unpublished(session, now - timedelta(hours=1), limit=1)
    mine = [job for job in listed if job in {waiting, waiting_longer, confirmed, young, running}]
    assert mine == [waiting_longer, waiting], "oldest first"
    assert len(first) == 1


def test_expired_leases_lists_running_jobs_whose_lease_ran_out(tx_db: Database) -> None:
    now = utcnow()
    expired = new_job(tx_db)
    claimed(tx_db, expired)
    _lease_expired(tx_db, expired)
    alive = new_job(tx_db)
    claimed(tx_db, alive)
    queued = new_job(tx_db, lease_expires_at=now - timedelta(hours=1))

    with tx_db.session() as session:
        listed = {job.id for job in lifecycle.expired_leases(session, utcnow())}
        assert len(lifecycle.expired_leases(session, utcnow(), limit=1)) == 1
    assert expired in listed
    assert alive not in listed
    assert queued not in listed


def test_segments_of_reads_in_order_and_after_a_seq(tx_db: Database) -> None:
    job_id = new_job(tx_db)
    other = new_job(tx_db)
    claim = claimed(tx_db, job_id)
    record(tx_db, claimed(tx_db, other), seg(0, 0, 1, " other job."))
    first = record(tx_db, claim, seg(1, 1, 2), seg(0, 0, 1))
    second = record(tx_db, claim, seg(2, 2, 3))
    assert first is not None
    assert second is not None

    assert [s.index for s in stored(tx_db, job_id)] == [0, 1, 2]
    assert [s.index for s in stored(tx_db, job_id, after_seq=first.seq)] == [2]
    assert [s.index for s in stored(tx_db, job_id, after_seq=second.seq)] == []
    assert [s.text for s in stored(tx_db, other)] == [" other job."]


def test_count_by_status_counts_every_status(tx_db: Database) -> None:
    with tx_db.session() as session:
        before = lifecycle.count_by_status(session)
    new_job(tx_db)
    new_job(tx_db)
    claimed(tx_db, new_job(tx_db))
    _cancelled(tx_db, new_job(tx_db))
    with tx_db.session() as session:
        after = lifecycle.count_by_status(session)
    delta = {s: after.get(s, 0) - before.get(s, 0) for s in after}
    assert {s: n for s, n in delta.items() if n} == {"queued": 2, "processing": 1, "cancelled": 1}


# --- the sweeper ----------------------------------------------------------------------------


@pytest.fixture
def sweep_settings() -> Settings:
    # Only jobs created more than a day ago count as unpublished here, so the sweep publishes
    # this test's job and none of the jobs other tests of the run left in the database.
    return Settings(max_attempts=MAX_ATTEMPTS, publish_retry_after_seconds=86400)


@pytest.fixture
def sweep_publisher() -> Iterator[Any]:
    from core.events import EventPublisher

    settings = get_settings()
    publisher = EventPublisher(settings.redis_url, settings.redis_prefix)
    yield publisher
    publisher.close()


def _events_of(job_id: uuid.UUID) -> JobEventLog:
    settings = get_settings()
    return JobEventLog(settings.redis_url, settings.redis_prefix, job_id)


def test_sweep_requeues_lost_runs_fails_exhausted_ones_and_publishes_the_outbox(
    tx_db: Database, sweep_settings: Settings, sweep_publisher: Any, job_queue: JobQueue
) -> None:
    lost = new_job(tx_db)
    claimed(tx_db, lost)
    _lease_expired(tx_db, lost)
    exhausted = new_job(tx_db)
    claimed(tx_db, exhausted)
    _lease_expired(tx_db, exhausted)
    with tx_db.session() as session:
        job = lifecycle.get(session, exhausted)
        job.attempts = MAX_ATTEMPTS
        session.add(job)
    unconfirmed = new_job(tx_db, created_at=utcnow() - timedelta(days=2))
    lost_events, exhausted_events = _events_of(lost), _events_of(exhausted)

    try:
        # An API process of this run may be sweeping at this moment (it holds the lock for a
        # few milliseconds each second): sweep again until this sweep is the one that ran.
        def swept() -> SweepReport | None:
            report = sweep_once(sweep_settings, tx_db, sweep_publisher, job_queue)
            return None if report.skipped_locked else report

        report = wait_until(swept, timeout=10, interval=0.05, what="the sweeper's lock")
        assert report.requeued >= 1
        assert report.failed >= 1
        assert report.published >= 1

        requeued = row(tx_db, lost)
        assert (requeued.status, requeued.attempts, requeued.restart_reason) == (
            "queued",
            1,
            "worker_lost",
        )
        failed = row(tx_db, exhausted)
        assert (failed.status, failed.error_code) == ("failed", "too_many_attempts")
        assert failed.error_message is not None
        assert "lost 3 times" in failed.error_message
        assert row(tx_db, unconfirmed).enqueued_at is not None

        assert [(e.type, e.seq) for e in lost_events.received()] == [("queued", 3)]
        [failure] = exhausted_events.received()
        assert isinstance(failure, FailedEvent)
        assert failure.error.code == "too_many_attempts"
    finally:
        lost_events.close()
        exhausted_events.close()


def test_sweep_skips_while_another_sweeper_holds_the_lock(
    tx_db: Database, sweep_settings: Settings, sweep_publisher: Any, job_queue: JobQueue
) -> None:
    lost = new_job(tx_db)
    claimed(tx_db, lost)
    _lease_expired(tx_db, lost)
    with tx_db.engine.connect() as other_sweeper:
        # Blocking: an API process of this run may hold the lock for a moment.
        other_sweeper.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
        try:
            report = sweep_once(sweep_settings, tx_db, sweep_publisher, job_queue)
        finally:
            other_sweeper.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
            other_sweeper.commit()
    assert report.skipped_locked
    assert (report.requeued, report.failed, report.published) == (0, 0, 0)
    assert row(tx_db, lost).status == JobStatus.processing.value


def test_what_a_test_commits_stays_inside_its_transaction(
    tx_db: Database, rollback_engine: sa.Engine
) -> None:
    job_id = new_job(tx_db)
    assert row(tx_db, job_id).status == "queued", "later sessions see the commit"
    with rollback_engine.connect() as elsewhere:
        found = elsewhere.execute(
            sa.text("SELECT count(*) FROM transcriptions WHERE id = :id"), {"id": job_id}
        ).scalar_one()
    assert found == 0, "no other connection sees it, and the rollback removes it"

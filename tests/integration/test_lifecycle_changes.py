"""The job state machine in-process against the real Postgres: a user's changes (cancel,
retry, remove), the requeue of a lost run, and the reads (outbox, expired leases, segments,
counts). Each test runs in a transaction rolled back at its end (`tx_db`); other tests'
committed rows are visible, so assertions are about this test's own jobs (or deltas).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core import lifecycle
from core.db import Database
from core.errors import Conflict, NotFound
from core.events import (
    CancelledEvent,
    ProcessingEvent,
    QueuedEvent,
)
from core.models import Transcription, utcnow
from tests.support.job_rows import (
    cancelled,
    claimed,
    lease_expired,
    new_job,
    record,
    row,
    seg,
    stored,
    take,
)

pytestmark = pytest.mark.integration


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
    lease_expired(tx_db, expired)
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
    cancelled(tx_db, new_job(tx_db))
    with tx_db.session() as session:
        after = lifecycle.count_by_status(session)
    delta = {s: after.get(s, 0) - before.get(s, 0) for s in after}
    assert {s: n for s, n in delta.items() if n} == {"queued": 2, "processing": 1, "cancelled": 1}


# --- the test database


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

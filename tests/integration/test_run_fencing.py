"""Runs are fenced: once a run is cancelled, retried or taken over, it can write nothing."""

from __future__ import annotations

import pytest

from core import lifecycle
from core.db import Database
from core.events import ProcessingEvent
from core.states import JobStatus
from tests.support.job_rows import LEASE, new_job, seg, take

pytestmark = pytest.mark.integration


def test_a_cancelled_then_retried_run_writes_nothing(db: Database) -> None:
    job_id = new_job(db)
    old = take(db, job_id).claim
    assert old is not None
    with db.session() as session:
        lifecycle.cancel(session, job_id)
    with db.session() as session:
        lifecycle.retry(session, job_id)
    result = take(db, job_id)
    new = result.claim
    assert new is not None
    # The retry reset the attempts, so both runs are attempt 1: only the run id tells them apart.
    assert (old.attempt, new.attempt) == (1, 1)
    assert old.run_id != new.run_id
    [started] = result.events
    assert isinstance(started, ProcessingEvent)
    assert (started.attempt, started.restart_reason) == (1, "retried")

    with db.session() as session:
        assert (
            lifecycle.record_segments(session, old, [seg(3, 15.0, 20.0, "old run")], LEASE) is None
        )
        assert not lifecycle.renew_lease(session, old, LEASE)
        assert lifecycle.complete(session, old, text="old", language="en", duration=60) == []
        assert lifecycle.fail_claimed(session, old, "x", "old run failing") == []
    with db.session() as session:
        progress = lifecycle.record_segments(session, new, [seg(0, 0.0, 5.0, "new run")], LEASE)
        assert progress is not None
    with db.session() as session:
        assert [s.text for s in lifecycle.segments_of(session, job_id)] == ["new run"]
        assert lifecycle.get(session, job_id).status == JobStatus.processing.value


def test_a_run_taken_over_after_its_worker_was_presumed_lost_writes_nothing(db: Database) -> None:
    job_id = new_job(db)
    first = take(db, job_id).claim
    assert first is not None
    result = take(db, job_id, redelivered=True)
    second = result.claim
    assert second is not None
    [started] = result.events
    assert isinstance(started, ProcessingEvent)
    assert (started.attempt, started.restart_reason) == (2, "worker_lost")
    with db.session() as session:
        assert lifecycle.record_segments(session, first, [seg(0, 0.0, 5.0, "stale")], LEASE) is None
        assert lifecycle.complete(session, first, text="stale", language="en", duration=60) == []
    with db.session() as session:
        events = lifecycle.complete(session, second, text="fresh", language="en", duration=60)
    assert [e.type for e in events] == ["completed"]
    with db.session() as session:
        job = lifecycle.get(session, job_id)
        assert (job.status, job.text, job.restart_reason) == ("completed", "fresh", "worker_lost")


def test_a_first_run_has_no_restart_reason(db: Database) -> None:
    result = take(db, new_job(db))
    [started] = result.events
    assert isinstance(started, ProcessingEvent)
    assert (started.attempt, started.restart_reason) == (1, None)

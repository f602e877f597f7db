"""The sweeper in-process: the real Postgres (a transaction rolled back per test), this run's
Redis and RabbitMQ queue. Other tests' committed jobs are visible to it, so assertions are
about this test's own jobs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from core import lifecycle
from core.db import Database
from core.events import (
    FailedEvent,
)
from core.queue import JobQueue
from core.settings import Settings, get_settings
from core.states import JobStatus
from core.sweeper import _LOCK_KEY, SweepReport, sweep_once
from tests.support.job_events import JobEventLog
from tests.support.job_rows import (
    MAX_ATTEMPTS,
    claimed,
    lease_expired,
    new_job,
    row,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


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


def test_sweep_requeues_lost_runs_and_fails_exhausted_ones(
    tx_db: Database, sweep_settings: Settings, sweep_publisher: Any, job_queue: JobQueue
) -> None:
    lost = new_job(tx_db)
    claimed(tx_db, lost)
    lease_expired(tx_db, lost)
    exhausted = new_job(tx_db)
    claimed(tx_db, exhausted)
    lease_expired(tx_db, exhausted)
    with tx_db.session() as session:
        job = lifecycle.get(session, exhausted)
        job.attempts = MAX_ATTEMPTS
        session.add(job)
    lost_events, exhausted_events = _events_of(lost), _events_of(exhausted)

    try:
        # An API process of this run may be sweeping at this moment (it holds the lock for a
        # few milliseconds each second): sweep again until this sweep is the one that ran.
        def swept() -> SweepReport | None:
            report = sweep_once(sweep_settings, tx_db, sweep_publisher)
            return None if report.skipped_locked else report

        report = wait_until(swept, timeout=10, interval=0.05, what="the sweeper's lock")
        assert report.requeued >= 1
        assert report.failed >= 1

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
    lease_expired(tx_db, lost)
    with tx_db.engine.connect() as other_sweeper:
        # Blocking: an API process of this run may hold the lock for a moment.
        other_sweeper.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
        try:
            report = sweep_once(sweep_settings, tx_db, sweep_publisher)
        finally:
            other_sweeper.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
            other_sweeper.commit()
    assert report.skipped_locked
    assert (report.requeued, report.failed) == (0, 0)
    assert row(tx_db, lost).status == JobStatus.processing.value

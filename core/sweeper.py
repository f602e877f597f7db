"""The sweeper: publishes jobs the broker never confirmed and requeues jobs of lost workers.

Exactly one sweeper acts at a time across all API processes (a Postgres advisory lock).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from core import lifecycle
from core.db import Database
from core.events import EventPublisher
from core.models import utcnow
from core.queue import JobQueue, enqueue_and_mark
from core.settings import Settings
from core.storage import Storage

logger = logging.getLogger(__name__)

_LOCK_KEY = 0x53574550  # advisory lock id reserved for the sweeper


@dataclass
class SweepReport:
    published: int = 0
    requeued: int = 0
    failed: int = 0
    removed_uploads: int = 0
    skipped_locked: bool = False


def sweep_once(
    settings: Settings,
    db: Database,
    publisher: EventPublisher,
    jobs: JobQueue,
    storage: Storage | None = None,
) -> SweepReport:
    report = SweepReport()
    with db.engine.connect() as lock_conn:
        got = lock_conn.execute(
            sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": _LOCK_KEY}
        ).scalar()
        if not got:
            report.skipped_locked = True
            return report
        try:
            _requeue_expired(settings, db, publisher, report)
            _publish_unconfirmed(settings, db, jobs, report)
            if storage is not None:
                _remove_stale_uploads(settings, storage, report)
        finally:
            lock_conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
            lock_conn.commit()
    return report


def _requeue_expired(
    settings: Settings, db: Database, publisher: EventPublisher, report: SweepReport
) -> None:
    with db.session() as session:
        events = []
        for job in lifecycle.expired_leases(session, utcnow()):
            if job.attempts >= settings.max_attempts:
                events += lifecycle.fail(
                    session,
                    job,
                    "too_many_attempts",
                    f"The worker was lost {job.attempts} times while transcribing this file.",
                )
                report.failed += 1
            else:
                events += lifecycle.requeue(session, job, reason=lifecycle.RESTART_WORKER_LOST)
                report.requeued += 1
            logger.warning("lease of job %s expired (worker %s)", job.id, job.worker)
    publisher.publish(*events)


def _publish_unconfirmed(
    settings: Settings, db: Database, jobs: JobQueue, report: SweepReport
) -> None:
    older_than = utcnow() - timedelta(seconds=settings.publish_retry_after_seconds)
    with db.session() as session:
        job_ids = lifecycle.unpublished(session, older_than)
    for job_id in job_ids:
        if not enqueue_and_mark(db, jobs, job_id):
            break  # broker still unreachable; try again next sweep
        report.published += 1


def _remove_stale_uploads(settings: Settings, storage: Storage, report: SweepReport) -> None:
    """Partial uploads nobody has written to for `STALE_UPLOAD_SECONDS` (their API process
    stopped mid-request): an upload in progress keeps touching its file, so it is never one."""
    for path in storage.stale_uploads(time.time() - settings.stale_upload_seconds):
        path.unlink(missing_ok=True)
        report.removed_uploads += 1
        logger.info("removed a stale partial upload %s", path.name)

"""The sweeper: requeues jobs of lost workers, and keeps storage and rows in step (stale partial
uploads, orphans on both sides: `core.orphans`). Publishing jobs, including those the broker
never confirmed or lost, is the dispatcher's (`core.dispatch`).

Exactly one sweeper acts at a time across all API processes (a Postgres advisory lock).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import sqlalchemy as sa

from core import lifecycle
from core.db import Database
from core.errors import StorageUnavailable
from core.events import EventPublisher
from core.models import utcnow
from core.orphans import OrphanScan, sweep_orphans
from core.piece_queue import PieceQueue
from core.piece_sweep import sweep_pieces
from core.settings import Settings
from core.storage import Storage

logger = logging.getLogger(__name__)

_LOCK_KEY = 0x53574550  # advisory lock id reserved for the sweeper


@dataclass
class SweepReport:
    requeued: int = 0
    requeued_pieces: int = 0
    failed: int = 0
    removed_uploads: int = 0
    removed_objects: int = 0
    missing_media: int = 0
    aborted_transfers: int = 0
    skipped_locked: bool = False

    @property
    def acted(self) -> bool:
        return any(
            (
                self.requeued,
                self.requeued_pieces,
                self.failed,
                self.removed_uploads,
                self.removed_objects,
                self.missing_media,
                self.aborted_transfers,
            )
        )


def sweep_once(
    settings: Settings,
    db: Database,
    publisher: EventPublisher,
    storage: Storage | None = None,
    scan: OrphanScan | None = None,
    pieces: PieceQueue | None = None,
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
            if pieces is not None:  # split recordings: lost and unpublished pieces
                report.requeued_pieces, failed = sweep_pieces(settings, db, publisher, pieces)
                report.failed += failed
            if storage is not None:
                _remove_stale_uploads(settings, storage, report)
                _sweep_storage(settings, db, publisher, storage, scan or OrphanScan(), report)
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


def _remove_stale_uploads(settings: Settings, storage: Storage, report: SweepReport) -> None:
    """Partial uploads nobody has written to for `STALE_UPLOAD_SECONDS` (their API process
    stopped mid-request): an upload in progress keeps touching its file, so it is never one."""
    for path in storage.stale_uploads(time.time() - settings.stale_upload_seconds):
        path.unlink(missing_ok=True)
        report.removed_uploads += 1
        logger.info("removed a stale partial upload %s", path.name)


def _sweep_storage(
    settings: Settings,
    db: Database,
    publisher: EventPublisher,
    storage: Storage,
    scan: OrphanScan,
    report: SweepReport,
) -> None:
    """Orphans on both sides; a store that is down is tried again next sweep."""
    try:
        found = sweep_orphans(db, publisher, storage, scan, settings.orphan_grace_seconds)
    except StorageUnavailable as exc:
        logger.warning("storage sweep skipped: %s", exc.message)
        return
    report.removed_objects += found.removed_objects
    report.missing_media += found.missing_media
    report.aborted_transfers += found.aborted_transfers

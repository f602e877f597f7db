"""Storage and rows kept in step by the sweeper, a bounded page per sweep, for either backend.

- A stored file without a row (its upload's commit failed, or its row was deleted while the
  store was down) is removed once it is older than `ORPHAN_GRACE_SECONDS`: an upload in
  flight stores its file a moment before its row is committed, so it is never one.
- A job queued for longer than the same grace whose file is gone is failed with
  `media_missing`. (A running job meets the
  missing file itself when its worker fetches it; finished jobs keep their status and text,
  and their media endpoint answers `media_missing`.)
- Multipart uploads into the store that never finished (their abort failed too) are aborted
  after the same grace.

Each sweep looks at one page of stored files and one page of queued jobs, continuing where
the previous sweep of this process stopped and starting over after the last page.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import col, select

from core import lifecycle
from core.db import Database
from core.events import EventPublisher, JobEvent
from core.models import Transcription
from core.states import JobStatus
from core.storage import Storage, StorageError

logger = logging.getLogger(__name__)

PAGE = 500
"""Stored files looked at per sweep."""
ROW_PAGE = 100
"""Queued jobs whose file is checked per sweep."""


@dataclass
class OrphanScan:
    """Where the next sweep of this process continues."""

    after_key: str | None = None
    after_job: uuid.UUID | None = None


@dataclass
class OrphanReport:
    removed_objects: int = 0
    missing_media: int = 0
    aborted_transfers: int = 0


def sweep_orphans(
    db: Database,
    publisher: EventPublisher,
    storage: Storage,
    scan: OrphanScan,
    grace_seconds: float,
    *,
    queued_grace_seconds: float | None = None,
) -> OrphanReport:
    """One page of each side. Jobs count once queued for `queued_grace_seconds` (default: the
    same grace as stored files)."""
    report = OrphanReport()
    now = time.time()
    older_than = now - grace_seconds
    queued_before = now - (grace_seconds if queued_grace_seconds is None else queued_grace_seconds)
    report.removed_objects = _remove_unowned(db, storage, scan, older_than)
    report.missing_media = _fail_missing(db, publisher, storage, scan, queued_before)
    report.aborted_transfers = storage.abort_stale_transfers(older_than)
    return report


def _owned_keys(db: Database, keys: Sequence[str]) -> set[str]:
    with db.session() as session:
        rows = session.exec(
            select(Transcription.storage_key).where(col(Transcription.storage_key).in_(keys))
        ).all()
    return set(rows)


def _remove_unowned(db: Database, storage: Storage, scan: OrphanScan, older_than: float) -> int:
    page = storage.listing(scan.after_key, PAGE)
    scan.after_key = page[-1].key if len(page) == PAGE else None
    if not page:
        return 0
    owned = _owned_keys(db, [item.key for item in page])
    removed = 0
    for item in page:
        if item.key in owned or item.modified >= older_than:
            continue
        # Checked again just before: a row committed since the listing keeps its file.
        if _owned_keys(db, [item.key]):
            continue
        storage.delete(item.key)
        removed += 1
        logger.info("removed stored media %s: no transcription refers to it", item.key)
    return removed


def _stored(storage: Storage, key: str) -> bool:
    try:
        return storage.exists(key)
    except StorageError:  # not a key of ours: nothing can be stored under it
        return False


def _fail_missing(
    db: Database, publisher: EventPublisher, storage: Storage, scan: OrphanScan, older_than: float
) -> int:
    query = select(Transcription.id, Transcription.storage_key).where(
        Transcription.status == JobStatus.queued.value,
        col(Transcription.created_at) < datetime.fromtimestamp(older_than, UTC),
    )
    if scan.after_job is not None:
        query = query.where(col(Transcription.id) > scan.after_job)
    with db.session() as session:
        rows = session.exec(query.order_by(col(Transcription.id)).limit(ROW_PAGE)).all()
    scan.after_job = rows[-1][0] if len(rows) == ROW_PAGE else None
    missing = [job_id for job_id, key in rows if not _stored(storage, key)]
    events: list[JobEvent] = []
    with db.session() as session:
        for job_id in missing:
            job = session.get(Transcription, job_id, with_for_update=True)
            if job is None or job.status != JobStatus.queued.value:
                continue
            events += lifecycle.fail(
                session, job, "media_missing", "The uploaded file is no longer stored."
            )
            logger.warning("job %s failed: its media is no longer stored", job_id)
    publisher.publish(*events)
    return len(events)

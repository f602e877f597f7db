"""Per-key limits on uploads: requests in flight and jobs waiting, answered with 429.

Concurrent uploads are counted in this API process (each process allows the limit on its
own); waiting jobs (queued or processing) are counted in Postgres, so that limit holds across
every API process. They apply to API keys; anonymous access (no keys configured) is not
limited.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, text
from sqlmodel import Session, col, select

from api.access.keys import Principal
from api.access.visibility import visible_transcriptions
from core.db import Database
from core.errors import RateLimited
from core.states import JobStatus

QUEUE_LOCK_SPACE = 0x51554555  # advisory lock namespace of the waiting-jobs limit
UPLOAD_RETRY_AFTER_SECONDS = 5
QUEUE_RETRY_AFTER_SECONDS = 30


class UploadSlots:
    """Uploads in progress per principal, in this process."""

    def __init__(self, limit: int):
        self.limit = limit
        self._active: Counter[str] = Counter()

    @contextmanager
    def hold(self, principal: Principal) -> Iterator[None]:
        limit = self.limit if principal.fingerprint else 0
        if limit and self._active[principal.name] >= limit:
            raise RateLimited(
                f"{limit} uploads of yours are already in progress; wait for one to finish.",
                retry_after=UPLOAD_RETRY_AFTER_SECONDS,
            )
        self._active[principal.name] += 1
        try:
            yield
        finally:
            self._active[principal.name] -= 1
            if self._active[principal.name] <= 0:
                del self._active[principal.name]


def waiting_jobs(session: Session, principal: Principal) -> int:
    """The principal's own jobs that are queued or processing."""
    mine = visible_transcriptions(principal, own_only=True).subquery()
    waiting = col(mine.c.status).in_([JobStatus.queued.value, JobStatus.processing.value])
    return int(session.exec(select(func.count()).select_from(mine).where(waiting)).one())


def _refuse_past_limit(waiting: int, limit: int, adding: int) -> None:
    if waiting + adding > limit:
        raise RateLimited(
            f"{waiting} of your transcriptions are waiting or running (limit {limit}); "
            "upload more once some have finished.",
            retry_after=QUEUE_RETRY_AFTER_SECONDS,
        )


def _limited(principal: Principal, limit: int) -> bool:
    return bool(limit) and bool(principal.fingerprint)


async def check_queue_room(db: Database, principal: Principal, limit: int, adding: int) -> None:
    """429 early (before the files are probed) when `adding` more jobs would pass the
    principal's limit of waiting jobs; `reserve_queue_room` decides for good."""
    if not _limited(principal, limit):
        return

    def count() -> int:
        with db.session() as session:
            return waiting_jobs(session, principal)

    _refuse_past_limit(await run_in_threadpool(count), limit, adding)


def reserve_queue_room(session: Session, principal: Principal, limit: int, adding: int) -> None:
    """In the transaction that inserts the jobs: lock the principal's limit (a transaction-level
    advisory lock on its name, so concurrent uploads to any API process take turns), count,
    and refuse past the limit. The lock is released when the transaction ends."""
    if not _limited(principal, limit):
        return
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, hashtext(:owner))"),
        {"space": QUEUE_LOCK_SPACE, "owner": principal.name},
    )
    _refuse_past_limit(waiting_jobs(session, principal), limit, adding)

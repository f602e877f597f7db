"""Per-key limits on uploads: requests in flight and jobs waiting, answered with 429.

Concurrent uploads are counted in this API process (each process allows the limit on its
own); waiting jobs (queued or processing) are counted in Postgres, so that limit holds across
every API process. They apply to API keys; anonymous access (no keys configured) is not
limited.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func
from sqlmodel import col, select

from api.auth import principal_of
from api.deps import SettingsDep
from api.keys import Principal
from core.db import session_scope
from core.errors import RateLimited
from core.models import Transcription
from core.states import JobStatus

UPLOAD_RETRY_AFTER_SECONDS = 5
QUEUE_RETRY_AFTER_SECONDS = 30

_active_uploads: Counter[str] = Counter()


def waiting_jobs(principal: Principal) -> int:
    """The principal's jobs that are queued or processing."""
    waiting = col(Transcription.status).in_([JobStatus.queued.value, JobStatus.processing.value])
    owner = principal.stamp
    mine = Transcription.owner == owner if owner is not None else col(Transcription.owner).is_(None)
    with session_scope() as session:
        return int(
            session.exec(select(func.count()).select_from(Transcription).where(waiting, mine)).one()
        )


async def check_queue_room(principal: Principal, limit: int, adding: int) -> None:
    """429 when `adding` more jobs would pass the principal's limit of waiting jobs."""
    if not limit or not principal.fingerprint:
        return
    waiting = await run_in_threadpool(waiting_jobs, principal)
    if waiting + adding > limit:
        raise RateLimited(
            f"{waiting} of your transcriptions are waiting or running (limit {limit}); "
            "upload more once some have finished.",
            retry_after=QUEUE_RETRY_AFTER_SECONDS,
        )


async def upload_slot(request: Request, settings: SettingsDep) -> AsyncIterator[None]:
    """Hold one of the principal's concurrent upload slots for the request. (The waiting-jobs
    limit is checked once the form is read and the number of files is known.)"""
    principal = principal_of(request)
    limit = settings.max_concurrent_uploads_per_key if principal.fingerprint else 0
    if limit and _active_uploads[principal.name] >= limit:
        raise RateLimited(
            f"{limit} uploads of yours are already in progress; wait for one to finish.",
            retry_after=UPLOAD_RETRY_AFTER_SECONDS,
        )
    _active_uploads[principal.name] += 1
    try:
        yield
    finally:
        _active_uploads[principal.name] -= 1
        if _active_uploads[principal.name] <= 0:
            del _active_uploads[principal.name]


UploadSlot = Annotated[None, Depends(upload_slot)]

"""The lifecycle actions on one visible transcription: cancel, retry, delete.

The single routes (`POST .../cancel`, `POST .../retry`, `DELETE ...`) and the bulk route
(`POST /api/transcriptions/bulk`) both come here, so each job follows the same rules and is
refused with the same error. Each action runs in its own transaction and publishes its
events after the commit.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from api import publishing
from api.access.keys import Principal
from api.access.visibility import visible_transcriptions
from api.resources import Resources
from core import lifecycle
from core.errors import NotFound, StorageUnavailable
from core.events import deleted_event
from core.models import Transcription
from core.storage import Storage

logger = logging.getLogger(__name__)


def parse_id(value: str | uuid.UUID) -> uuid.UUID:
    """A transcription id; anything that is not a UUID names no transcription (404)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("No transcription with this id.") from None


def load(
    session: Session, principal: Principal, job_id: str | uuid.UUID, *, lock: bool = False
) -> Transcription:
    """The transcription if the principal may see it (another owner's is not found)."""
    query = visible_transcriptions(principal).where(Transcription.id == parse_id(job_id))
    job = session.exec(query.with_for_update() if lock else query).first()
    if job is None:
        raise NotFound("No transcription with this id.")
    return job


def _act(resources: Resources, principal: Principal, job_id: str | uuid.UUID, action: Any) -> Any:
    """A lifecycle action on a visible job, in one transaction."""
    with resources.db.session() as session:
        job = load(session, principal, job_id)
        return action(session, job.id)


async def cancel(
    resources: Resources, principal: Principal, job_id: str | uuid.UUID
) -> Transcription:
    """Cancel a queued or running job (a running one stops at its next segment)."""
    job, events = await run_in_threadpool(_act, resources, principal, job_id, lifecycle.cancel)
    await publishing.publish(resources, events)
    return job


async def retry(
    resources: Resources, principal: Principal, job_id: str | uuid.UUID, *, dispatch: bool = True
) -> Transcription:
    """Queue a failed or cancelled job again; with `dispatch`, run a dispatch pass for it
    (a caller retrying many jobs runs one pass for all: `publishing.enqueue_jobs`)."""
    job, events = await run_in_threadpool(_act, resources, principal, job_id, lifecycle.retry)
    await publishing.publish(resources, events)
    if dispatch:
        await publishing.enqueue_jobs(resources, [job], announce=False)
    return job


async def delete(
    resources: Resources, storage: Storage, principal: Principal, job_id: str | uuid.UUID
) -> Transcription:
    """Delete the transcription and its stored media (a running job stops)."""
    job = await run_in_threadpool(_act, resources, principal, job_id, lifecycle.remove)
    try:
        await run_in_threadpool(storage.delete, job.storage_key)
    except StorageUnavailable:
        # The row is gone: the media is now an orphan, which the sweeper removes later.
        logger.warning("media of deleted job %s left for the sweeper", job.id)
    await publishing.publish(resources, [deleted_event(job.id, job.last_seq + 1, job.progress)])
    return job

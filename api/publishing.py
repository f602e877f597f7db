"""After-commit side effects of the API: publish events and enqueue jobs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from functools import lru_cache

from fastapi.concurrency import run_in_threadpool

from core import lifecycle, queue
from core.db import session_scope
from core.events import CancelledEvent, EventPublisher, JobEvent
from core.models import Transcription
from core.settings import get_settings

_background: set[asyncio.Task[bool]] = set()


@lru_cache
def event_publisher() -> EventPublisher:
    settings = get_settings()
    return EventPublisher(settings.redis_url, settings.redis_prefix)


async def publish(events: Iterable[JobEvent]) -> None:
    """Publish in the background: a slow or absent Redis never delays a response."""
    batch = list(events)
    if not batch:
        return
    task = asyncio.create_task(run_in_threadpool(event_publisher().publish, *batch))
    _background.add(task)
    task.add_done_callback(_background.discard)


def _enqueue_and_mark(job: Transcription) -> None:
    if queue.enqueue(job.id):
        with session_scope() as session:
            lifecycle.mark_enqueued(session, job.id)


async def enqueue_jobs(jobs: list[Transcription], *, announce: bool = True) -> None:
    """Publish each committed job to the broker. A job the broker did not confirm stays
    queued without `enqueued_at`; the sweeper publishes it later."""
    if announce:
        await publish(lifecycle.state_event(job) for job in jobs)
    for job in jobs:
        await run_in_threadpool(_enqueue_and_mark, job)


def deleted_event(job: Transcription) -> CancelledEvent:
    return CancelledEvent(
        id=job.id, seq=job.last_seq + 1, status="cancelled", progress=job.progress, deleted=True
    )

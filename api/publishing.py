"""After-commit side effects of the API: publish events and enqueue jobs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from fastapi.concurrency import run_in_threadpool

from api.resources import Resources
from core.events import JobEvent, state_event
from core.models import Transcription
from core.queue import enqueue_and_mark

_background: set[asyncio.Task[bool]] = set()
"""Publishing tasks still running (referenced here so they are not collected mid-flight)."""


async def publish(resources: Resources, events: Iterable[JobEvent]) -> None:
    """Publish in the background: a slow or absent Redis never delays a response."""
    batch = list(events)
    if not batch:
        return
    task = asyncio.create_task(run_in_threadpool(resources.publisher.publish, *batch))
    _background.add(task)
    task.add_done_callback(_background.discard)


async def enqueue_jobs(
    resources: Resources, jobs: list[Transcription], *, announce: bool = True
) -> None:
    """Publish each committed job to the broker (the sweeper retries what is not confirmed)."""
    if announce:
        await publish(resources, (state_event(job) for job in jobs))
    for job in jobs:
        await run_in_threadpool(enqueue_and_mark, resources.db, resources.jobs, job.id)

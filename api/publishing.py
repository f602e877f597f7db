"""After-commit side effects of the API: publish events and dispatch jobs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from fastapi.concurrency import run_in_threadpool

from api.resources import Resources
from core.events import JobEvent, state_event
from core.models import Transcription

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
    """After committing queued jobs: announce them, then run a dispatch pass, which publishes
    those the free worker slots can start now (`core.dispatch`; the others wait in Postgres
    for their turn), and give each its place and estimates from that pass."""
    if announce:
        await publish(resources, (state_event(job) for job in jobs))
    if not jobs:
        return
    report = await run_in_threadpool(resources.dispatcher.run)
    for job in jobs:  # the answer shows where the pass put them (as of their commit: queued)
        estimate = report.estimates.get(job.id) if report else None
        if estimate is not None:
            job.queue_position = estimate.position
            job.eta_starts_at, job.eta_finishes_at = estimate.starts_at, estimate.finishes_at

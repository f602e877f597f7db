"""Catch-up from Postgres: the one way a stream learns what it has not seen live.

The same read serves the snapshot at connect, a `Last-Event-ID` resume, the repair of a gap
in the live events, a client resynced after falling behind, and the polling while Redis is
down. Given a job and the last seq a client has, it returns the stored segments carried by
later events as one `progress` event, then the job's current state event, both with the job's
`last_seq`; nothing if the job has not changed since.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from typing import Protocol

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from api.access.keys import Principal
from api.access.visibility import visible_transcriptions
from api.live.frames import WireEvent
from api.live.ledger import JobCatchUp
from core.db import Database
from core.events import JobEvent, progress_event, state_event
from core.models import Segment, Transcription
from core.states import JobStatus

CatchUps = dict[str, JobCatchUp | None]
"""Per job id: its catch-up, or None when the job does not exist for this client."""


def catch_up_events(
    job: Transcription, segments: Sequence[Segment], after_seq: int
) -> list[JobEvent]:
    """The events that bring a client holding `after_seq` up to the job's current state."""
    if job.last_seq <= after_seq:
        return []
    state = state_event(job)
    fresh = [s for s in sorted(segments, key=_index) if after_seq < s.seq <= job.last_seq]
    if not fresh:
        return [state]
    return [progress_event(job, fresh), state]


def _index(segment: Segment) -> int:
    return segment.index


def job_catch_up(job: Transcription, segments: Sequence[Segment], after_seq: int) -> JobCatchUp:
    events = catch_up_events(job, segments, after_seq)
    return JobCatchUp(
        last_seq=job.last_seq,
        terminal=JobStatus(job.status).is_terminal,
        events=tuple(WireEvent.of(e) for e in events),
    )


def read_catch_ups(session: Session, principal: Principal, after: Mapping[str, int]) -> CatchUps:
    """Catch-ups of several jobs in two queries: the jobs, then their newer segments.

    Segments are bounded by the `last_seq` read with the job, so a batch committed between the
    two queries is left to the event that announces it.
    """
    ids = [uuid.UUID(job_id) for job_id in after]
    jobs = {
        str(job.id): job
        for job in session.exec(
            visible_transcriptions(principal).where(col(Transcription.id).in_(ids))
        ).all()
    }
    changed = {job_id: job for job_id, job in jobs.items() if job.last_seq > after[job_id]}
    segments: dict[str, list[Segment]] = {job_id: [] for job_id in changed}
    if changed:
        newer = or_(
            *(
                and_(
                    col(Segment.transcription_id) == job.id,
                    col(Segment.seq) > after[job_id],
                    col(Segment.seq) <= job.last_seq,
                )
                for job_id, job in changed.items()
            )
        )
        for segment in session.exec(select(Segment).where(newer)).all():
            segments[str(segment.transcription_id)].append(segment)
    return {
        job_id: job_catch_up(jobs[job_id], segments.get(job_id, []), after[job_id])
        if job_id in jobs
        else None
        for job_id in after
    }


def _read(db: Database, principal: Principal, after: Mapping[str, int]) -> CatchUps:
    """One short read-only transaction; both queries see the same snapshot of the database."""
    with db.session() as session:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return read_catch_ups(session, principal, after)


_Key = tuple[Principal, tuple[tuple[str, int], ...]]


class CatchUpSource(Protocol):
    """Where a stream reads what it missed (`CatchUpReader`, or a stand-in in unit tests)."""

    async def read(self, principal: Principal, after: Mapping[str, int]) -> CatchUps: ...


class CatchUpReader:
    """Runs catch-up reads in the threadpool, a few at a time, each in its own short session.

    Streams asking the same question at the same moment (many clients of one job after a
    Redis outage, say) share one read.
    """

    def __init__(self, db: Database, concurrency: int):
        self._db = db
        self._slots = asyncio.Semaphore(concurrency)
        self._inflight: dict[_Key, asyncio.Task[CatchUps]] = {}

    async def read(self, principal: Principal, after: Mapping[str, int]) -> CatchUps:
        key = (principal, tuple(sorted(after.items())))
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._read(principal, dict(after)))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._settled(key, done))
        return await asyncio.shield(task)

    def _settled(self, key: _Key, task: asyncio.Task[CatchUps]) -> None:
        self._inflight.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved here, so an error every caller abandoned is not logged

    async def _read(self, principal: Principal, after: dict[str, int]) -> CatchUps:
        async with self._slots:
            return await run_in_threadpool(_read, self._db, principal, after)

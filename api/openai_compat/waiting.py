"""Waiting for an OpenAI request's job, holding neither a database session nor a worker.

The request follows its job as an event stream does (`api.live.stream.LiveStream`): it
subscribes to the job in the API's event hub, brings itself up to date from Postgres, then
takes the job's events as they come; the hub's Postgres audit (and its polling while Redis is
down) repairs whatever Redis loses, so Postgres stays the truth. While it waits the request
holds only that subscription: the job is an ordinary job in the library that any worker runs,
and a client that goes away leaves it to finish there. A job still running after
`OPENAI_WAIT_SECONDS` ends the wait with an answer that names the job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from api.access.keys import Principal
from api.access.visibility import visible_transcriptions
from api.live.frames import WireEvent
from api.live.ledger import Ledger
from api.live.stream import LiveStream
from api.resources import Resources
from core import lifecycle
from core.models import Segment, Transcription


async def job_events(
    resources: Resources, principal: Principal, job_id: uuid.UUID
) -> AsyncGenerator[WireEvent, None]:
    """The job's events, from its state in Postgres on, until its terminal event."""
    key = str(job_id)
    stream = LiveStream(resources.hub, resources.catch_ups, Ledger([key]), principal)
    try:
        async for event in stream.events():
            yield event
    finally:
        stream.close()


async def _until_ended(resources: Resources, principal: Principal, job_id: uuid.UUID) -> None:
    async for _ in job_events(resources, principal, job_id):
        pass  # the events end with the job's terminal one


async def _disconnected(request: Request) -> None:
    """Returns when the client has gone (its body was read: only a disconnect can come)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def wait_for_end(
    request: Request, resources: Resources, principal: Principal, job_id: uuid.UUID
) -> bool:
    """Whether the job ended within OPENAI_WAIT_SECONDS (False also when the client left)."""
    ended = asyncio.create_task(_until_ended(resources, principal, job_id))
    gone = asyncio.create_task(_disconnected(request))
    try:
        await asyncio.wait(
            {ended, gone},
            timeout=resources.settings.openai_wait_seconds,
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        for task in (ended, gone):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return ended.done() and not ended.cancelled() and ended.exception() is None


def _read(
    resources: Resources, principal: Principal, job_id: uuid.UUID
) -> tuple[Transcription | None, list[Segment]]:
    with resources.db.session() as session:
        query = visible_transcriptions(principal).where(Transcription.id == job_id)
        job = session.exec(query).first()
        return job, lifecycle.segments_of(session, job_id) if job else []


async def read_job(
    resources: Resources, principal: Principal, job_id: uuid.UUID
) -> tuple[Transcription | None, list[Segment]]:
    """The job and its segments as Postgres has them (one short session)."""
    return await run_in_threadpool(_read, resources, principal, job_id)


@dataclass
class TextDeltas:
    """Segment texts as OpenAI's deltas, so that their concatenation is the job's text (the
    segments joined, then stripped): the first delta loses its leading space and trailing
    whitespace waits for the next one. A segment index already sent is never sent again
    (a re-run of the job starts over at index 0)."""

    sent: set[int] = field(default_factory=set)
    pending: str = ""
    started: bool = False

    def of(self, segments: Sequence[dict[str, Any]]) -> list[str]:
        deltas = []
        for segment in sorted(segments, key=lambda s: int(s["index"])):
            if segment["index"] in self.sent:
                continue
            self.sent.add(segment["index"])
            text = self.pending + str(segment["text"])
            if not self.started:
                text = text.lstrip()
            delta = text.rstrip()
            self.pending = text[len(delta) :]
            if delta:
                self.started = True
                deltas.append(delta)
        return deltas


def segments_of_event(event: WireEvent) -> list[dict[str, Any]]:
    data = json.loads(event.data)
    return list(data.get("segments") or [data["segment"]])

"""Following jobs live over the API's multiplexed event stream (`GET /api/events`).

The set of jobs may grow while it runs (`submit` adds each file once it is accepted): the
stream is then opened again with `since=<id>:<seq>` for the jobs already followed, so nothing
is sent twice and nothing is missed. A dropped connection is opened again the same way after
a short pause. A job is done at its terminal event (`completed`, `failed`, `cancelled`; a
deleted job arrives as `cancelled` with `deleted: true`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
from httpx_sse import SSEError, aconnect_sse

from cli.api import Api, ApiError, error_of

TERMINAL = frozenset({"completed", "failed", "cancelled"})
MAX_JOBS_PER_STREAM = 200
"""The API's limit on the jobs one stream follows; more jobs are split over more streams."""
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)

EventHandler = Callable[[str, str, dict[str, Any]], None]
"""Called with (job id, event type, event data) for every new event."""


def _final(error: ApiError) -> bool:
    """An answer that asking again will not change (a bad id, a wrong key)."""
    return error.status is not None and error.status < 500 and error.status != 429


class Follower:
    def __init__(self, api: Api, on_event: EventHandler, *, on_retry: Callable[[str], None]):
        self.api = api
        self.on_event = on_event
        self.on_retry = on_retry
        self.seqs: dict[str, int] = {}
        self.kinds: dict[str, str] = {}
        """Job id -> the type of the last event passed on."""
        self.finished: dict[str, str] = {}
        """Job id -> its terminal status."""
        self._changed = asyncio.Event()
        self._sealed = False

    def add(self, job_id: str, seq: int = 0) -> None:
        """Follow `job_id` from after `seq` (0: from its current state)."""
        if job_id not in self.seqs:
            self.seqs[job_id] = seq
            self._changed.set()

    def seal(self) -> None:
        """No job will be added: `run` returns once every followed job has ended."""
        self._sealed = True
        self._changed.set()

    def pending(self) -> list[str]:
        return [job_id for job_id in self.seqs if job_id not in self.finished]

    async def run(self) -> dict[str, str]:
        """Follow until every job has ended (and no more can be added); their end states."""
        failures = 0
        while True:
            pending = self.pending()
            if not pending and self._sealed:
                return dict(self.finished)
            self._changed.clear()
            if not pending:
                await self._changed.wait()
                continue
            batches = [
                pending[i : i + MAX_JOBS_PER_STREAM]
                for i in range(0, len(pending), MAX_JOBS_PER_STREAM)
            ]
            streams = [asyncio.create_task(self._stream(batch)) for batch in batches]
            changed = asyncio.create_task(self._changed.wait())
            try:
                failures = await self._supervise(streams, changed, failures)
            finally:
                for task in [*streams, changed]:
                    task.cancel()
                await asyncio.gather(*streams, changed, return_exceptions=True)

    async def _supervise(
        self, streams: list[asyncio.Task[None]], changed: asyncio.Task[bool], failures: int
    ) -> int:
        """Wait for a new job (the streams are opened again) or for every stream to end; a
        stream that broke is opened again after a pause. Returns the failures in a row."""
        waiting: set[asyncio.Future[Any]] = {*streams, changed}
        while waiting - {changed}:
            done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if changed in done:
                return 0
            for task in done:
                error = task.exception()
                if isinstance(error, ApiError) and _final(error):
                    raise error
                if error is not None:
                    self.on_retry(str(error))
                    pause = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)]
                    await asyncio.sleep(pause)
                    return failures + 1
        return 0

    def _since(self, batch: list[str]) -> str:
        return ",".join(f"{job_id}:{self.seqs[job_id]}" for job_id in batch if self.seqs[job_id])

    async def _stream(self, batch: list[str]) -> None:
        params = {"ids": ",".join(batch)}
        if since := self._since(batch):
            params["since"] = since
        timeout = httpx.Timeout(self.api.config.timeout, read=None)
        try:
            async with aconnect_sse(
                self.api.http, "GET", "/api/events", params=params, timeout=timeout
            ) as source:
                response = source.response
                if response.status_code == 204:  # every job of the batch had already ended
                    await self._ended(batch)
                    return
                if response.is_error:
                    await response.aread()
                    raise error_of(response)
                async for sse in source.aiter_sse():
                    self._receive(sse.event, sse.data)
        except (httpx.TransportError, SSEError) as exc:
            raise ApiError("stream_lost", str(exc) or type(exc).__name__) from exc
        if any(job_id not in self.finished for job_id in batch):
            raise ApiError("stream_lost", "the event stream ended early")

    async def _ended(self, batch: list[str]) -> None:
        """Jobs the API says have ended, though their end was not seen here: read how."""
        for job_id in batch:
            if job_id not in self.finished:
                job = await self.api.job(job_id)
                self.seqs[job_id] = int(job.get("seq") or self.seqs[job_id])
                self.finished[job_id] = str(job.get("status"))
                self.on_event(job_id, str(job.get("status")), job)

    def _receive(self, kind: str, raw: str) -> None:
        try:
            data = json.loads(raw)
        except ValueError:
            return
        job_id = str(data.get("id", ""))
        seq = int(data.get("seq", 0))
        if job_id not in self.seqs or job_id in self.finished:
            return
        # A catch-up sends the segments as one `progress` event, then the state event, both
        # at the job's seq: the state after a progress at the same seq is new too.
        known, last = self.seqs[job_id], self.kinds.get(job_id)
        if seq < known or (seq == known and not (last == "progress" != kind)):
            return
        self.seqs[job_id], self.kinds[job_id] = seq, kind
        if kind in TERMINAL:
            self.finished[job_id] = kind
        self.on_event(job_id, kind, data)

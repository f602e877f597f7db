"""One client's stream: the snapshot, then live events filtered by seq, repaired from Postgres.

The subscription is taken before the snapshot is read, so an event committed after the read
is queued for the stream, and one committed before it is covered by the snapshot and dropped
by its seq. A live event that skips a seq, a notice that Postgres moved on (while Redis is
down, or as the periodic audit), or an inbox that overflowed makes the stream read the
missing part from Postgres with the same catch-up.

A catch-up is a group of frames (the new segments, then the state) and only its last frame
carries an id: ids mark just the points where the client's picture is whole.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable

from api.access.keys import Principal
from api.live import cursor
from api.live.catchup import CatchUpSource
from api.live.frames import WireEvent, frame
from api.live.hub import EventHub
from api.live.ledger import Ledger, Position
from api.live.subscription import Item, Stale
from api.metrics import SSE_CLIENTS

logger = logging.getLogger(__name__)


Sent = tuple[WireEvent, str | None]
"""An event new to the stream, with the id of its frame (None inside a catch-up group)."""


def _frames(sent: Iterable[Sent]) -> str:
    return "".join(frame(event, event_id) for event, event_id in sent)


def per_job_id(_: Ledger, event: WireEvent) -> str:
    return str(event.seq)


def multiplexed_id(tag: str) -> Callable[[Ledger, WireEvent], str]:
    def event_id(ledger: Ledger, _: WireEvent) -> str:
        return cursor.encode(tag, ledger)

    return event_id


class LiveStream:
    def __init__(
        self,
        hub: EventHub,
        catch_ups: CatchUpSource,
        ledger: Ledger,
        principal: Principal,
        event_id: Callable[[Ledger, WireEvent], str] = per_job_id,
    ):
        self.hub = hub
        self.catch_ups = catch_ups
        self.ledger = ledger
        self.principal = principal
        self._event_id = event_id
        self._subscription = hub.subscribe(j for j in ledger.job_ids if j not in ledger.gone)
        self._closed = False
        SSE_CLIENTS.inc()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.hub.unsubscribe(self._subscription)
            SSE_CLIENTS.dec()

    async def snapshot(self) -> str:
        """Frames that bring the client up to date (empty if it already is)."""
        return _frames(await self._catch_up(self._followed()))

    async def frames(self, first: str) -> AsyncIterator[bytes]:
        """`first`, then everything new until the stream's jobs have ended (as wire bytes)."""
        try:
            if first:
                yield first.encode()
            while not self.ledger.finished:
                items, overflowed = await self._subscription.take()
                chunk = await self.handle(items, overflowed)
                if chunk:
                    yield chunk.encode()
        except Exception as exc:
            logger.warning("live stream ended by an error: %s", exc)
        finally:
            self.close()

    async def handle(self, items: Iterable[Item], overflowed: bool) -> str:
        """Frames for a batch from the inbox; what cannot be relayed as is is read from Postgres."""
        return _frames(await self.relay(items, overflowed))

    async def events(self) -> AsyncIterator[WireEvent]:
        """The events that bring the stream up to date, then every new one until its jobs
        have ended, for a reader inside the API (no frames)."""
        try:
            for event, _ in await self._catch_up(self._followed()):
                yield event
            while not self.ledger.finished:
                items, overflowed = await self._subscription.take()
                for event, _ in await self.relay(items, overflowed):
                    yield event
        finally:
            self.close()

    async def relay(self, items: Iterable[Item], overflowed: bool) -> list[Sent]:
        """The events of a batch from the inbox that are new to the stream, each with its
        frame id, in order; what cannot be relayed as is is read from Postgres."""
        sent: list[Sent] = []
        repair = set(self._followed()) if overflowed else set()
        for item in items:
            if self.ledger.finished:
                break
            job_id = item.job_id
            if job_id in repair or job_id in self.ledger.gone:
                continue
            if isinstance(item, Stale):
                if item.last_seq is None or item.last_seq > self.ledger.last[job_id]:
                    repair.add(job_id)
                continue
            position = self.ledger.position(item)
            if position is Position.NEXT:
                self.ledger.record(item)
                sent.append((item, self._event_id(self.ledger, item)))
            elif position is Position.GAP:
                repair.add(job_id)
        if repair and not self.ledger.finished:
            sent += await self._catch_up(j for j in self.ledger.job_ids if j in repair)
        return sent

    def _followed(self) -> list[str]:
        return [job for job in self.ledger.job_ids if job not in self.ledger.gone]

    async def _catch_up(self, job_ids: Iterable[str]) -> list[Sent]:
        after = {job: self.ledger.last[job] for job in job_ids}
        if not after:
            return []
        catch_ups = await self.catch_ups.read(self.principal, after)
        sent: list[Sent] = []
        for job_id in after:
            events = self.ledger.merge(job_id, catch_ups[job_id])
            # Only the group's last frame gets an id: a client cut off inside the group
            # resumes before it and gets the whole group again, never a part of it.
            sent += [(event, None) for event in events[:-1]]
            if events:
                sent.append((events[-1], self._event_id(self.ledger, events[-1])))
        return sent

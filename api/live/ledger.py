"""What a stream has sent so far, per job: the seq filter behind "no duplicates, no gaps"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from api.live.frames import WireEvent
from core.events import deleted_event as deleted_job_event


class Position(Enum):
    OLD = "old"
    """Already covered by what was sent: drop it."""
    NEXT = "next"
    """Exactly the following event: send it."""
    GAP = "gap"
    """Something before it was missed: read the job from Postgres instead."""


@dataclass(frozen=True)
class JobCatchUp:
    """A job as Postgres has it now, with the events that bring a client up to date."""

    last_seq: int
    terminal: bool
    events: tuple[WireEvent, ...]


class Ledger:
    """The last seq sent per job, which jobs ended (terminal) and which no longer exist."""

    def __init__(
        self,
        job_ids: Sequence[str],
        after: Mapping[str, int] | None = None,
        gone: Iterable[str] = (),
    ):
        self.job_ids = tuple(job_ids)
        after = after or {}
        self.last: dict[str, int] = {job: max(0, after.get(job, 0)) for job in self.job_ids}
        self.gone: set[str] = {job for job in gone if job in self.last}
        self._ended: set[str] = set(self.gone)
        """Jobs whose last event sent was terminal, and jobs that are gone."""

    def position(self, event: WireEvent) -> Position:
        if event.job_id in self.gone:
            return Position.OLD
        last = self.last.get(event.job_id)
        if last is None or event.seq <= last:
            return Position.OLD
        return Position.NEXT if event.seq == last + 1 else Position.GAP

    def record(self, event: WireEvent) -> None:
        self.last[event.job_id] = event.seq
        if event.terminal:
            self._ended.add(event.job_id)
        else:
            self._ended.discard(event.job_id)

    def merge(self, job_id: str, catch_up: JobCatchUp | None) -> list[WireEvent]:
        """The catch-up events still new to this stream (recorded as sent)."""
        if job_id in self.gone:
            return []
        if catch_up is None:
            self.gone.add(job_id)
            self._ended.add(job_id)
            return [deleted_event(job_id, self.last[job_id] + 1)]
        if catch_up.last_seq <= self.last[job_id]:
            if catch_up.last_seq == self.last[job_id] and catch_up.terminal:
                self._ended.add(job_id)
            return []
        fresh = [event for event in catch_up.events if event.seq > self.last[job_id]]
        for event in fresh:
            self.record(event)
        return fresh

    @property
    def finished(self) -> bool:
        return len(self._ended) == len(self.job_ids)


def deleted_event(job_id: str, seq: int) -> WireEvent:
    """The event that says a job does not exist (any more) for this client."""
    return WireEvent.of(deleted_job_event(job_id, seq))

"""The order waiting jobs start in, and when each is expected to start and finish.

One home for the order: the dispatcher publishes jobs in it, and the queue position and
estimates every waiting job shows come from it. Within a model pool:

1. Jobs already dispatched (published to the broker, not started yet) start first.
2. Then by priority: every waiting `high` job before every `normal` one, every `normal` before
   every `low`.
3. Within a priority, fair share: the next job goes to the owner with the least work in the
   pool (running, dispatched, or placed ahead in this order); between owners with as much,
   to the one whose last turn (dispatch) is longest ago, so owners with waiting jobs take
   turns; then to the owner whose next job is the oldest.
4. Each owner's jobs start oldest first.

Estimates (`plan`) play the order forward over the pool's worker slots: a slot frees when its
running job is expected to end, and each waiting job takes the first free slot for the time
its recording is expected to take (`core.speed`).
"""

from __future__ import annotations

import heapq
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

PRIORITIES = ("high", "normal", "low")
"""Highest first."""
DEFAULT_PRIORITY = "normal"
_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}
_NEVER = (0, float("-inf"))


def priority_rank(priority: str) -> int:
    """0 for high, 1 for normal, 2 for low (an unknown value counts as normal)."""
    return _RANK.get(priority, _RANK[DEFAULT_PRIORITY])


@dataclass(frozen=True)
class Waiting:
    """A queued job, as the scheduler sees it."""

    id: uuid.UUID
    model: str
    owner: str
    priority: str
    created_at: datetime
    duration: float | None
    dispatched: datetime | None = None
    """When it was published to the broker (not started yet): it starts before the others,
    in the order they were published."""


@dataclass(frozen=True)
class Running:
    id: uuid.UUID
    model: str
    owner: str
    worker: str | None
    started_at: datetime | None
    duration: float | None
    progress: float


def start_order(
    waiting: Iterable[Waiting],
    work: Counter[str] | None = None,
    last_turn: Mapping[str, datetime] | None = None,
) -> list[Waiting]:
    """The jobs of one pool in the order they will start. `work`: each owner's jobs running in
    the pool now (the dispatched ones among `waiting` are added here); `last_turn`: when each
    owner last had a job dispatched in the pool (between owners with as much work, the one
    whose turn is longest ago goes first: round-robin)."""
    load: Counter[str] = Counter(work or {})
    turns: dict[str, tuple[int, float]] = {
        owner: (0, at.timestamp()) for owner, at in (last_turn or {}).items()
    }
    jobs = list(waiting)
    dispatched = sorted(
        (j for j in jobs if j.dispatched is not None), key=lambda j: (j.dispatched, *_age(j))
    )
    for job in dispatched:
        load[job.owner] += 1
    by_priority: dict[int, dict[str, list[Waiting]]] = defaultdict(lambda: defaultdict(list))
    for job in jobs:
        if job.dispatched is None:
            by_priority[priority_rank(job.priority)][job.owner].append(job)
    order = list(dispatched)
    for rank in sorted(by_priority):
        queues = {
            owner: sorted(own, key=_age, reverse=True) for owner, own in by_priority[rank].items()
        }
        heap = [
            (load[owner], turns.get(owner, _NEVER), *_age(own[-1]), owner)
            for owner, own in queues.items()
        ]
        heapq.heapify(heap)
        while heap:
            owner = heapq.heappop(heap)[-1]
            own = queues[owner]
            order.append(own.pop())
            load[owner] += 1
            turns[owner] = (1, float(len(order)))
            if own:
                heapq.heappush(heap, (load[owner], turns[owner], *_age(own[-1]), owner))
    return order


def _age(job: Waiting) -> tuple[datetime, str]:
    return job.created_at, str(job.id)


class Durations:
    """How long a recording is expected to take (`core.speed.SpeedTable` implements it)."""

    def seconds(self, model: str, worker: str | None, duration: float | None) -> float | None:
        raise NotImplementedError


@dataclass(frozen=True)
class Estimate:
    position: int | None
    starts_at: datetime | None
    finishes_at: datetime | None


def plan(
    order: Sequence[Waiting],
    running: Sequence[Running],
    slots: int,
    durations: Durations,
    now: datetime,
) -> dict[uuid.UUID, Estimate]:
    """Positions (1 = starts next) and estimates for one pool's jobs: `order` as
    `start_order` gives it, `running` its running jobs, `slots` its live worker slots. With no
    slot, or a job whose time cannot be estimated yet, the times after it are unknown (null)."""
    estimates: dict[uuid.UUID, Estimate] = {}
    free: list[datetime | None] = []
    for job in running:
        finish = _running_finish(job, durations, now)
        estimates[job.id] = Estimate(None, None, finish)
        free.append(finish)
    free += [now] * max(0, slots - len(running))
    if slots <= 0:
        free = []
    known = [t for t in free if t is not None]
    unknown = len(free) - len(known)
    heapq.heapify(known)
    for position, waiting in enumerate(order, start=1):
        start: datetime | None = None
        if known:
            start = max(now, heapq.heappop(known))
        elif unknown:
            unknown -= 1
        seconds = durations.seconds(waiting.model, None, waiting.duration)
        finish = start + timedelta(seconds=seconds) if start and seconds is not None else None
        estimates[waiting.id] = Estimate(position, start, finish)
        if finish is not None:
            heapq.heappush(known, finish)
        elif free:
            unknown += 1
    return estimates


def _running_finish(job: Running, durations: Durations, now: datetime) -> datetime | None:
    """Started, plus the time its recording is expected to take; once past that, now plus
    the expected time of what is left."""
    seconds = durations.seconds(job.model, job.worker, job.duration)
    if seconds is None or job.started_at is None:
        return None
    expected = job.started_at + timedelta(seconds=seconds)
    if expected > now:
        return expected
    return now + timedelta(seconds=seconds * max(0.0, 1.0 - job.progress))

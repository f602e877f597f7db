"""The dispatcher: Postgres decides which job starts next, RabbitMQ only delivers it.

An upload commits its jobs as queued without publishing them. A dispatch pass counts each
model pool's free worker slots (live slots from the heartbeats, less the work that holds
them: `busy_slots`), publishes that many jobs in the order `core.scheduling` gives, and marks
each published job dispatched (`enqueued_at`) once the broker confirmed it. The broker queues
thus hold only jobs about to start, whatever their type (quorum queues have no priorities).

A pass runs in every API process, one at a time (a Postgres advisory lock): inline after an
upload or retry commits, whenever a job starts, stops or is queued again (`NOTIFY
soundscripter_dispatch`, sent by a trigger in the same transaction: `core.dispatch_loop`), and
every `DISPATCH_INTERVAL_SECONDS` (a worker that joins, a notification missed).

Delivery: a job whose publish the broker did not confirm stays undispatched and is published
by a later pass. A dispatched job that has not started `DISPATCH_TIMEOUT_SECONDS` later (its
message was lost with the broker) no longer holds a slot and is published again; if the first
message still arrives, the second delivery finds the job taken and does nothing (run fencing).
A pool no heartbeat announces (Redis down, or workers that cannot reach Redis) keeps one job
in its queue (not published again while no heartbeat shows a worker that missed it), so an
unannounced worker still works, one job at a time.

After dispatching, the pass writes each waiting job's queue position and estimates
(`core.schedule_writer`).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from core import piece_queue
from core.db import Database
from core.models import utcnow
from core.queue import JobQueue
from core.scheduling import Estimate, Running, Waiting, priority_rank, start_order
from core.settings import Settings
from core.workers import PoolView

logger = logging.getLogger(__name__)

DISPATCH_LOCK = 0x44535054
"""Advisory lock id: one dispatch pass at a time across every API process."""
LOCK_WAIT = "5s"
"""How long a pass waits for another one to end before it gives up (the next one runs)."""
FALLBACK_UNSTARTED = 1
"""Dispatched-but-unstarted jobs a pool no heartbeat announces may hold."""

_ACTIVE = sa.text(
    """
    SELECT id, model, coalesce(owner, ''), priority, created_at, duration_seconds, status,
           enqueued_at, worker, started_at, progress,
           queue_position, eta_starts_at, eta_finishes_at, scheduled_at
    FROM transcriptions WHERE status IN ('queued', 'processing')
    """
)
_TURNS = sa.text(
    """
    SELECT model, coalesce(owner, ''), max(enqueued_at) FROM transcriptions
    WHERE enqueued_at > :since GROUP BY 1, 2
    """
)
TURN_MEMORY = timedelta(minutes=10)
"""How far back an owner's last turn counts for round-robin."""
_MARK = sa.text("UPDATE transcriptions SET enqueued_at = :at WHERE id = :id AND status = 'queued'")


@dataclass(frozen=True)
class Stored:
    """A job's stored estimate, as the last pass wrote it."""

    position: int | None
    starts_at: datetime | None
    finishes_at: datetime | None
    scheduled_at: datetime | None


@dataclass
class Active:
    """The jobs waiting and running now, all pools together."""

    waiting: list[Waiting] = field(default_factory=list)
    running: list[Running] = field(default_factory=list)
    stored: dict[uuid.UUID, Stored] = field(default_factory=dict)
    last_turn: dict[str, dict[str, datetime]] = field(default_factory=dict)
    """Model → owner → its latest dispatch in the pool (within `TURN_MEMORY`)."""

    def models(self) -> set[str]:
        return {j.model for j in self.waiting} | {j.model for j in self.running}

    def pool(self, model: str) -> tuple[list[Waiting], list[Running]]:
        return (
            [j for j in self.waiting if j.model == model],
            [j for j in self.running if j.model == model],
        )


def read_active(session: Session, now: datetime, timeout_seconds: float, pools: PoolView) -> Active:
    """Every queued and processing job. A queued job counts as dispatched while its dispatch
    is younger than `timeout_seconds`, or while no heartbeat announces its pool (no worker
    is known to have missed it)."""
    active = Active()
    lost_before = now - timedelta(seconds=timeout_seconds)
    for row in session.execute(_ACTIVE).all():
        (job_id, model, owner, priority, created, duration, status, enqueued) = row[:8]
        worker, started, progress = row[8:11]
        active.stored[job_id] = Stored(*row[11:15])
        if status == "queued":
            alive = enqueued is not None and (enqueued > lost_before or not pools.serves(model))
            dispatched = enqueued if alive else None
            active.waiting.append(
                Waiting(job_id, model, owner, priority, created, duration, dispatched)
            )
        else:
            active.running.append(
                Running(job_id, model, owner, worker, started, duration, progress)
            )
    for model, owner, at in session.execute(_TURNS, {"since": now - TURN_MEMORY}).all():
        active.last_turn.setdefault(model, {})[owner] = at
    return active


@dataclass
class Busy:
    """What holds worker slots now."""

    by_worker: Counter[str] = field(default_factory=Counter)
    """Worker node → slots its running jobs hold."""
    unstarted: Counter[str] = field(default_factory=Counter)
    """Model → jobs dispatched to its queue and not started yet (each will take a slot)."""


def busy_slots(session: Session, active: Active) -> Busy:
    """The one count of the work holding worker slots (running, or dispatched and about to
    run): the dispatcher gives a pool only the slots this leaves free."""
    busy = Busy()
    split = piece_queue.work(session)  # a split job's slots are its pieces', running or queued
    for job in active.running:
        if job.id not in split.jobs:
            busy.by_worker[job.worker or ""] += 1
    for waiting in active.waiting:
        if waiting.dispatched is not None:
            busy.unstarted[waiting.model] += 1
    busy.by_worker.update(split.by_worker)
    busy.unstarted.update(split.unstarted)
    return busy


class Capacity:
    """Free slots per worker group, taken one job at a time."""

    def __init__(self, groups: Iterable[tuple[frozenset[str], int]]):
        # Groups serving fewer models first: a general group stays free for the others.
        ordered = sorted(groups, key=lambda group: len(group[0]))
        self.models = [models for models, _ in ordered]
        self.free = [free for _, free in ordered]

    def take(self, model: str) -> bool:
        for index, models in enumerate(self.models):
            if model in models and self.free[index] > 0:
                self.free[index] -= 1
                return True
        return False

    @classmethod
    def of(cls, settings: Settings, pools: PoolView, busy: Busy, models: Iterable[str]) -> Capacity:
        groups = []
        for beat in pools.beats if pools.reachable else ():
            served = frozenset(pools.models_of(settings, beat))
            if served:
                groups.append((served, beat.concurrency - busy.by_worker[beat.node]))
        announced: frozenset[str] = frozenset().union(*(served for served, _ in groups))
        # A pool no heartbeat announces (Redis down, or workers that cannot reach it) keeps
        # one job in its queue: an unannounced worker still finds work, one job at a time.
        groups += [
            (frozenset({m}), FALLBACK_UNSTARTED - busy.unstarted[m])
            for m in sorted(set(models) - announced)
        ]
        capacity = cls(groups)
        for model, count in busy.unstarted.items():
            if model in announced:
                for _ in range(count):
                    capacity.take(model)
        return capacity


def pool_slots(pools: PoolView, model: str, running: int) -> int:
    """A pool's worker slots for estimates (heartbeats unreadable: those seen running)."""
    return pools.slots.get(model, 0) if pools.reachable else max(running, 1)


def owner_work(running: Sequence[Running]) -> Counter[str]:
    return Counter(job.owner for job in running)


def orders(active: Active) -> dict[str, list[Waiting]]:
    """Each pool's waiting jobs in the order they will start."""
    by_model: dict[str, list[Waiting]] = defaultdict(list)
    for job in active.waiting:
        by_model[job.model].append(job)
    work: dict[str, Counter[str]] = defaultdict(Counter)
    for running in active.running:
        work[running.model][running.owner] += 1
    return {
        model: start_order(jobs, work[model], active.last_turn.get(model))
        for model, jobs in by_model.items()
    }


def choose(order: dict[str, list[Waiting]], capacity: Capacity) -> list[Waiting]:
    """The jobs to publish now: pool by pool in start order while the pool has a free slot,
    the pools' next jobs compared by priority and then age (pools sharing a worker group)."""
    heads = {model: [j for j in jobs if j.dispatched is None] for model, jobs in order.items()}
    chosen: list[Waiting] = []
    while heads := {m: jobs for m, jobs in heads.items() if jobs}:
        model = min(
            heads, key=lambda m: (priority_rank(heads[m][0].priority), heads[m][0].created_at)
        )
        if capacity.take(model):
            chosen.append(heads[model].pop(0))
        else:
            heads[model] = []
    return chosen


@dataclass
class DispatchReport:
    dispatched: list[uuid.UUID] = field(default_factory=list)
    unconfirmed: int = 0
    skipped_locked: bool = False
    estimates: dict[uuid.UUID, Estimate] = field(default_factory=dict)
    """Every active job's place and estimates after the pass."""


def dispatch_once(
    settings: Settings, db: Database, jobs: JobQueue, pools: PoolView
) -> DispatchReport:
    """One pass: publish the jobs the free slots can start now, and mark them dispatched."""
    report = DispatchReport()
    now = utcnow()
    with db.session() as session:
        if not take_lock(session, DISPATCH_LOCK):
            report.skipped_locked = True
            return report
        active = read_active(session, now, settings.dispatch_timeout_seconds, pools)
        capacity = Capacity.of(settings, pools, busy_slots(session, active), active.models())
        for offset, job in enumerate(choose(orders(active), capacity)):
            if not jobs.enqueue(job.id, job.model):
                report.unconfirmed += 1
                break  # the broker is unreachable; a later pass tries again
            # Microseconds apart: the dispatched jobs keep the order they were published in.
            session.execute(_MARK, {"id": job.id, "at": now + timedelta(microseconds=offset)})
            report.dispatched.append(job.id)
    return report


def take_lock(session: Session, key: int) -> bool:
    """Wait (at most `LOCK_WAIT`) for the transaction-scoped advisory lock `key`."""
    session.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
    try:
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    except sa.exc.OperationalError:
        session.rollback()
        logger.warning("dispatch lock %x not free after %s: skipping this pass", key, LOCK_WAIT)
        return False
    return True

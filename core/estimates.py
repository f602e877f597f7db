"""Queue positions and estimates: computed by each dispatch pass, stored on the job rows.

Stored, so every read (list, detail, a stream's snapshot) shows the same figures without
computing the order again. A waiting job's figures are rewritten, with its `seq` bumped and a
`queued` event sent, when its position changes or an estimate moves by more than
`TOLERANCE_SECONDS` (or a twentieth of the time until it): at once while it is among the next
`PROMPT_POSITIONS`, else at most every `REFRESH_SECONDS` (a long queue moving by one does not
send hundreds of events per started job). A running job's end estimate is rewritten the same
way, without an event: its `progress` events carry it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from core.dispatch import Active, Stored, orders, pool_slots
from core.events import EtaOut, JobEvent, QueuedEvent
from core.scheduling import Estimate, plan
from core.speed import SpeedTable
from core.workers import PoolView

PROMPT_POSITIONS = 10
REFRESH_SECONDS = 5.0
TOLERANCE_SECONDS = 1.0

_WAITING = sa.text(
    """
    UPDATE transcriptions
    SET queue_position = :position, eta_starts_at = :starts, eta_finishes_at = :finishes,
        scheduled_at = :now, last_seq = last_seq + 1
    WHERE id = :id AND status = 'queued'
    RETURNING last_seq, progress
    """
)
_RUNNING = sa.text(
    """
    UPDATE transcriptions SET eta_finishes_at = :finishes, scheduled_at = :now
    WHERE id = :id AND status = 'processing'
    """
)


def estimate_all(
    session: Session, active: Active, pools: PoolView, now: datetime
) -> dict[uuid.UUID, Estimate]:
    """Every active job's estimate, pool by pool."""
    speeds = SpeedTable.load(session, active.models())
    result: dict[uuid.UUID, Estimate] = {}
    waiting_orders = orders(active)
    for model in active.models():
        _, running = active.pool(model)
        slots = pool_slots(pools, model, len(running))
        result |= plan(waiting_orders.get(model, []), running, slots, speeds, now)
    return result


def _moved(old: datetime | None, new: datetime | None, now: datetime) -> bool:
    if old is None or new is None:
        return old is not new
    tolerance = max(TOLERANCE_SECONDS, 0.05 * (new - now).total_seconds())
    return abs((new - old).total_seconds()) > tolerance


@dataclass
class _Change:
    job_id: uuid.UUID
    estimate: Estimate
    waiting: bool


def _changes(active: Active, estimates: dict[uuid.UUID, Estimate], now: datetime) -> list[_Change]:
    waiting_ids = {job.id for job in active.waiting}
    changes = []
    for job_id, estimate in estimates.items():
        stored = active.stored.get(job_id) or Stored(None, None, None, None)
        waiting = job_id in waiting_ids
        moved = _moved(stored.finishes_at, estimate.finishes_at, now)
        if waiting:
            moved = moved or _moved(stored.starts_at, estimate.starts_at, now)
            moved = moved or stored.position != estimate.position
        if not moved:
            continue
        prompt = waiting and (estimate.position or 0) <= PROMPT_POSITIONS
        recent = stored.scheduled_at is not None and stored.scheduled_at > now - timedelta(
            seconds=REFRESH_SECONDS
        )
        if prompt or not recent:
            changes.append(_Change(job_id, estimate, waiting))
    return changes


def write_estimates(
    session: Session, active: Active, pools: PoolView, now: datetime
) -> tuple[dict[uuid.UUID, Estimate], list[JobEvent]]:
    """Store the estimates that changed. Returns every active job's estimate and the
    `queued` events to publish after the commit."""
    events: list[JobEvent] = []
    estimates = estimate_all(session, active, pools, now)
    for change in _changes(active, estimates, now):
        estimate = change.estimate
        params = {
            "id": change.job_id,
            "position": estimate.position,
            "starts": estimate.starts_at,
            "finishes": estimate.finishes_at,
            "now": now,
        }
        if not change.waiting:
            session.execute(_RUNNING, params)
            continue
        row = session.execute(_WAITING, params).first()
        if row is None:
            continue  # started, cancelled or deleted meanwhile
        eta = None
        if estimate.starts_at or estimate.finishes_at:
            eta = EtaOut(starts_at=estimate.starts_at, finishes_at=estimate.finishes_at)
        events.append(
            QueuedEvent(
                id=change.job_id,
                seq=row[0],
                status="queued",
                progress=row[1],
                position=estimate.position,
                eta=eta,
            )
        )
    return estimates, events

"""The start order (priority, fair share, age), capacity per worker group, and the plan of
estimates, on hand-made jobs."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from core.dispatch import Busy, Capacity, choose
from core.scheduling import Durations, Running, Waiting, plan, start_order
from core.settings import Settings
from core.speed import Fit
from core.workers import ModelServed, PoolView, WorkerBeat

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def job(owner: str, minute: int, priority: str = "normal", **kwargs: object) -> Waiting:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "model": "tiny.en",
        "owner": owner,
        "priority": priority,
        "created_at": T0 + timedelta(minutes=minute),
        "duration": 60.0,
    }
    fields.update(kwargs)
    return Waiting(**fields)  # type: ignore[arg-type]


def names(order: list[Waiting], jobs: dict[str, Waiting]) -> list[str]:
    by_id = {j.id: name for name, j in jobs.items()}
    return [by_id[j.id] for j in order]


def test_priority_first_then_owners_take_turns_then_oldest_first() -> None:
    jobs = {
        "a1": job("a", 0),
        "a2": job("a", 1),
        "a3": job("a", 2),
        "b1": job("b", 3),
        "low": job("c", -10, "low"),
        "high": job("a", 9, "high"),
    }
    order = start_order(jobs.values())
    assert names(order, jobs) == ["high", "b1", "a1", "a2", "a3", "low"]


def test_the_owner_with_less_running_goes_first_and_turns_break_ties() -> None:
    jobs = {"a1": job("a", 0), "b1": job("b", 5)}
    assert names(start_order(jobs.values(), Counter(a=1)), jobs) == ["b1", "a1"]
    assert names(start_order(jobs.values(), Counter()), jobs) == ["a1", "b1"]
    # As much running: the owner whose last turn is longer ago goes first.
    turns = {"a": T0 + timedelta(minutes=30), "b": T0}
    assert names(start_order(jobs.values(), Counter(), turns), jobs) == ["b1", "a1"]


def test_dispatched_jobs_come_first_in_the_order_they_were_published() -> None:
    jobs = {
        "new": job("a", 0, "high"),
        "second": job("b", 5, dispatched=T0 + timedelta(seconds=2)),
        "first": job("b", 6, "low", dispatched=T0 + timedelta(seconds=1)),
    }
    assert names(start_order(jobs.values()), jobs) == ["first", "second", "new"]


def _beat(node: str, models: list[str], concurrency: int) -> WorkerBeat:
    settings = Settings()
    from core.queue import model_queue_name

    return WorkerBeat(
        node=node,
        host="h",
        pid=1,
        models=[ModelServed(name=m, queue=model_queue_name(settings, m)) for m in models],
        concurrency=concurrency,
        jobs=[],
        started_at=T0,
        beat_at=T0,
    )


def test_capacity_counts_runs_and_unstarted_jobs_per_worker_group() -> None:
    settings = Settings()
    beats = [_beat("w1", ["tiny.en"], 2), _beat("w2", ["tiny.en", "base"], 1)]
    pools = PoolView.of(settings, beats)
    busy = Busy(by_worker=Counter(w1=1), unstarted=Counter({"tiny.en": 1}))
    capacity = Capacity.of(settings, pools, busy, ["tiny.en", "base", "ghost"])
    # w1: 2 slots - 1 run - 1 unstarted = 0; w2 keeps its slot for either model.
    assert capacity.take("base")
    assert not capacity.take("tiny.en")
    # A pool no heartbeat announces keeps one job in its queue.
    assert capacity.take("ghost")
    assert not capacity.take("ghost")


def test_choose_takes_pool_heads_by_priority_while_slots_last() -> None:
    jobs = {"a1": job("a", 0), "a2": job("a", 1), "b1": job("b", 2)}
    order = {"tiny.en": start_order(jobs.values())}
    chosen = choose(order, Capacity([(frozenset({"tiny.en"}), 2)]))
    assert names(chosen, jobs) == ["a1", "b1"]


class _Fixed(Durations):
    def seconds(self, model: str, worker: str | None, duration: float | None) -> float | None:
        return None if duration is None else 2.0 + duration / 10


def test_plan_plays_the_order_over_the_slots() -> None:
    now = T0
    running = [Running(uuid.uuid4(), "tiny.en", "x", "w1", now, 100.0, 0.5)]
    waiting = [job("a", 0), job("b", 1), job("c", 2)]
    estimates = plan(waiting, running, 2, _Fixed(), now)
    # The running job ends at +12 s; slot 2 is free now.
    assert estimates[running[0].id].finishes_at == now + timedelta(seconds=12)
    first, second, third = (estimates[j.id] for j in waiting)
    assert (first.position, first.starts_at) == (1, now)
    assert first.finishes_at == now + timedelta(seconds=8)
    assert (second.position, second.starts_at) == (2, now + timedelta(seconds=8))
    assert (third.position, third.starts_at) == (3, now + timedelta(seconds=12))
    nobody = plan(waiting, [], 0, _Fixed(), now)
    assert [nobody[j.id].position for j in waiting] == [1, 2, 3]
    assert all(nobody[j.id].starts_at is None for j in waiting)


def test_speed_fit_separates_the_fixed_cost_from_the_cost_per_second() -> None:
    fit = Fit.of([(10.0, 3.0), (20.0, 5.0), (40.0, 9.0)])
    assert fit is not None
    assert fit.fixed == pytest.approx(1.0)
    assert fit.per_audio_second == pytest.approx(0.2)
    alike = Fit.of([(10.0, 3.0), (10.0, 3.2), (10.0, 2.8)])
    assert alike is not None
    assert (alike.fixed, alike.per_audio_second) == (0.0, pytest.approx(0.3))
    assert Fit.of([]) is None

"""Stand-ins for the live relay's collaborators in unit tests: job events and Postgres reads."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from api.access.keys import ANONYMOUS_PRINCIPAL, Principal
from api.live.catchup import CatchUps
from api.live.frames import WireEvent
from api.live.hub import EventHub
from api.live.ledger import JobCatchUp
from api.live.options import LiveOptions
from core.events import CompletedEvent, ProcessingEvent

A = "00000000-0000-4000-8000-0000000000aa"
B = "00000000-0000-4000-8000-0000000000bb"
PREFIX = "unit"
ANYONE = ANONYMOUS_PRINCIPAL
"""The principal of unit-test streams (sees every job)."""


def processing(job: str, seq: int) -> WireEvent:
    return WireEvent.of(
        ProcessingEvent(id=uuid.UUID(job), seq=seq, status="processing", progress=0.0)
    )


def completed(job: str, seq: int) -> WireEvent:
    return WireEvent.of(
        CompletedEvent(id=uuid.UUID(job), seq=seq, status="completed", progress=1.0, text="hi")
    )


class FakeReads:
    """Stands in for Postgres: the catch-up each job would give, and the reads asked for."""

    def __init__(self) -> None:
        self.jobs: dict[str, JobCatchUp | None] = {}
        self.asked: list[dict[str, int]] = []

    def set(self, job: str, *events: WireEvent, terminal: bool = False) -> None:
        self.jobs[job] = JobCatchUp(events[-1].seq, terminal, events)

    async def read(self, principal: Principal, after: Mapping[str, int]) -> CatchUps:
        self.asked.append(dict(after))
        result: CatchUps = {}
        for job, seq in after.items():
            known = self.jobs.get(job)
            if known is not None and known.last_seq <= seq:
                known = JobCatchUp(known.last_seq, known.terminal, ())
            result[job] = known
        return result


def make_hub(**options: Any) -> EventHub:
    """A hub that never reaches Redis (nothing listens on port 1) and reads no seqs."""
    return EventHub(
        "redis://127.0.0.1:1/0", PREFIX, LiveOptions(**options), seq_reader=lambda ids: {}
    )

"""Checks that a superseded run wrote nothing: over a job's Redis events and stored segments.

A run that carried on after it was cancelled, retried or taken over would decode the same audio
into the same text, so the text cannot tell its writes apart. Their order and `seq` can: each
run's progress events carry indexes from 0 on, one after another, and every stored segment
keeps the `seq` of the event that carried it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from core.events import JobEvent, ProcessingEvent, ProgressEvent
from core.lifecycle import segments_of
from tests.support.private import PrivatePlatform


def check_runs_contiguous(events: Sequence[JobEvent]) -> None:
    """After each `processing` event (a run starting), progress events carry the indexes
    0, 1, 2, … in order: a write by an older run would break the sequence."""
    expected = 0
    for event in events:
        if isinstance(event, ProcessingEvent):
            expected = 0
        elif isinstance(event, ProgressEvent):
            indexes = [s.index for s in event.segments]
            assert indexes == list(range(expected, expected + len(indexes))), (
                f"seq {event.seq}: indexes {indexes}, expected from {expected}"
            )
            expected += len(indexes)


def check_stored_by_last_run(
    platform: PrivatePlatform, job_id: str, events: Sequence[JobEvent]
) -> None:
    """Every stored segment has the seq of a progress event of the last run that carried its
    index (`events`: the job's channel up to its end, including the last run's start)."""
    starts = [i for i, e in enumerate(events) if isinstance(e, ProcessingEvent)]
    assert starts, "the last run's start is not among the events"
    carried = {
        (e.seq, s.index)
        for e in events[starts[-1] :]
        if isinstance(e, ProgressEvent)
        for s in e.segments
    }
    with platform.session() as session:
        stored = {(s.seq, s.index) for s in segments_of(session, uuid.UUID(job_id))}
    assert stored, "nothing stored"
    assert stored <= carried, f"stored by another run: {sorted(stored - carried)}"

"""Catch-up merge: what a client holding some seq gets from the stored job, and the seq filter."""

from __future__ import annotations

import json
import uuid

import pytest

from api.live.catchup import catch_up_events, job_catch_up
from api.live.frames import WireEvent
from api.live.ledger import JobCatchUp, Ledger, Position
from core.events import ProcessingEvent, QueuedEvent
from core.models import Segment, Transcription

pytestmark = pytest.mark.unit

JOB = uuid.UUID("00000000-0000-4000-8000-00000000000a")
KEY = str(JOB)


def _job(status: str, last_seq: int, **fields: object) -> Transcription:
    return Transcription(
        id=JOB,
        filename="talk.wav",
        storage_key="k",
        size_bytes=1,
        sha256="0" * 64,
        model="tiny.en",
        status=status,
        last_seq=last_seq,
        progress=fields.pop("progress", 0.0),
        **fields,
    )


def _segments(*seqs: int) -> list[Segment]:
    return [
        Segment(transcription_id=JOB, index=i, seq=seq, start=i, end=i + 1.0, text=f" w{i}")
        for i, seq in enumerate(seqs)
    ]


def test_unchanged_job_gives_nothing() -> None:
    assert catch_up_events(_job("processing", 5), _segments(3, 4, 5), after_seq=5) == []


def test_running_job_gives_new_segments_then_its_state_at_last_seq() -> None:
    job = _job("processing", 6, progress=0.4, attempts=1, duration_seconds=10.0)
    events = catch_up_events(job, _segments(3, 3, 4, 6), after_seq=3)
    assert [e.type for e in events] == ["progress", "processing"]
    assert {e.seq for e in events} == {6}
    progress = events[0]
    assert progress.type == "progress"
    assert [s.index for s in progress.segments] == [2, 3]
    assert progress.segment == progress.segments[-1]
    assert (progress.status, progress.progress) == ("processing", 0.4)
    assert events[1].model_dump()["attempt"] == 1


def test_snapshot_of_a_completed_job_has_every_segment_in_order_then_completed() -> None:
    job = _job("completed", 9, progress=1.0, text="w0 w1 w2", language="en")
    events = catch_up_events(job, list(reversed(_segments(3, 4, 5))), after_seq=0)
    assert [e.type for e in events] == ["progress", "completed"]
    assert [s.index for s in events[0].segments] == [0, 1, 2]
    assert events[1].model_dump()["text"] == "w0 w1 w2"


def test_state_change_without_new_segments_gives_the_state_only() -> None:
    job = _job("cancelled", 7)
    events = catch_up_events(job, _segments(3, 4), after_seq=5)
    assert [e.type for e in events] == ["cancelled"]


def test_job_catch_up_is_encoded_once_for_the_wire() -> None:
    catch_up = job_catch_up(_job("failed", 4, error_code="bad", error_message="no"), [], 0)
    assert catch_up.terminal
    assert catch_up.last_seq == 4
    (event,) = catch_up.events
    assert json.loads(event.data)["error"] == {"code": "bad", "message": "no"}


def _wire(seq: int, kind: type = ProcessingEvent) -> WireEvent:
    status = "queued" if kind is QueuedEvent else "processing"
    return WireEvent.of(kind(id=JOB, seq=seq, status=status, progress=0.0))


def test_seq_filter_drops_covered_events_and_flags_gaps() -> None:
    ledger = Ledger([KEY], {KEY: 4})
    assert ledger.position(_wire(3)) is Position.OLD
    assert ledger.position(_wire(4)) is Position.OLD
    assert ledger.position(_wire(5)) is Position.NEXT
    assert ledger.position(_wire(7)) is Position.GAP
    ledger.record(_wire(5))
    assert ledger.position(_wire(5)) is Position.OLD
    assert ledger.position(_wire(6)) is Position.NEXT


def test_events_of_jobs_not_followed_are_dropped() -> None:
    other = WireEvent(str(uuid.uuid4()), 1, "queued", "{}")
    assert Ledger([KEY]).position(other) is Position.OLD


def test_merge_keeps_only_what_is_newer_than_what_was_sent() -> None:
    ledger = Ledger([KEY], {KEY: 2})
    live = _wire(3)
    ledger.record(live)
    stale = JobCatchUp(last_seq=3, terminal=False, events=(live,))
    assert ledger.merge(KEY, stale) == []
    fresh = JobCatchUp(last_seq=5, terminal=False, events=(_wire(5), _wire(5)))
    assert ledger.merge(KEY, fresh) == list(fresh.events)
    assert ledger.last[KEY] == 5


def test_terminal_job_finishes_the_ledger_and_a_retry_reopens_it() -> None:
    ledger = Ledger([KEY])
    completed = WireEvent(KEY, 1, "failed", "{}")
    ledger.record(completed)
    assert ledger.finished
    ledger.record(_wire(2, QueuedEvent))
    assert not ledger.finished


def test_an_unchanged_terminal_job_counts_as_finished() -> None:
    ledger = Ledger([KEY], {KEY: 9})
    assert ledger.merge(KEY, JobCatchUp(last_seq=9, terminal=True, events=())) == []
    assert ledger.finished


def test_missing_job_is_reported_deleted_once() -> None:
    ledger = Ledger([KEY], {KEY: 4})
    (event,) = ledger.merge(KEY, None)
    data = json.loads(event.data)
    assert (event.type, event.seq, data["deleted"]) == ("cancelled", 5, True)
    assert ledger.finished
    assert ledger.merge(KEY, None) == []
    assert ledger.position(_wire(5)) is Position.OLD


def test_segments_newer_than_the_job_row_wait_for_their_own_event() -> None:
    # A batch committed after the job row was read: its event will carry it.
    job = _job("processing", 3)
    events = catch_up_events(job, _segments(3, 4), after_seq=2)
    assert [s.index for s in events[0].segments] == [0]
    assert {e.seq for e in events} == {3}

"""SSE frames as they go on the wire, and the resume positions clients send back."""

from __future__ import annotations

import uuid

import pytest

from api.live import cursor
from api.live.frames import WireEvent, frame
from api.live.ledger import Ledger
from core.errors import InvalidRequest
from core.events import ProgressEvent, QueuedEvent, SegmentOut

pytestmark = pytest.mark.unit

JOB = uuid.UUID("00000000-0000-4000-8000-000000000001")
OTHER = "00000000-0000-4000-8000-000000000002"


def test_frame_bytes_of_a_queued_event() -> None:
    event = WireEvent.of(QueuedEvent(id=JOB, seq=1, status="queued", progress=0.0))
    assert frame(event, "1").encode() == (
        b"id: 1\n"
        b"event: queued\n"
        b'data: {"id":"00000000-0000-4000-8000-000000000001","seq":1,"status":"queued",'
        b'"progress":0.0,"type":"queued","position":null,"eta":null}\n'
        b"\n"
    )


def test_progress_frame_keeps_segment_text_on_one_data_line() -> None:
    segment = SegmentOut(index=0, start=0.0, end=1.5, text=" Two\nlines é")
    event = WireEvent.of(
        ProgressEvent(
            id=JOB,
            seq=3,
            status="processing",
            progress=0.5,
            segment=segment,
            segments=[segment],
        )
    )
    wire = frame(event, "3").encode()
    lines = wire.split(b"\n")
    assert lines[:2] == [b"id: 3", b"event: progress"]
    assert lines[2].startswith(b'data: {"id":"00000000-0000-4000-8000-000000000001","seq":3')
    assert b'"text":" Two\\nlines \xc3\xa9"' in lines[2]
    assert lines[3:] == [b"", b""]


def test_published_json_is_relayed_as_it_came_extra_fields_included() -> None:
    raw = (
        b'{"id":"00000000-0000-4000-8000-000000000001","seq":7,"status":"queued",'
        b'"progress":0.0,"type":"queued","published_at":123.5}'
    )
    event = WireEvent.parse(raw)
    assert (event.job_id, event.seq, event.type) == (str(JOB), 7, "queued")
    assert event.data == raw.decode()


def test_multi_line_json_is_folded_onto_one_line() -> None:
    raw = (
        '{\n "id": "00000000-0000-4000-8000-000000000001",\n "seq": 2,\n'
        ' "status": "queued", "progress": 0, "type": "queued"\n}'
    )
    event = WireEvent.parse(raw)
    assert "\n" not in event.data
    assert frame(event, "2").count("\n") == 4


def test_invalid_event_is_refused() -> None:
    with pytest.raises(ValueError, match="validation error"):
        WireEvent.parse(b'{"id": "nope", "type": "queued"}')


@pytest.mark.parametrize(
    ("header", "seq"),
    [(None, 0), ("", 0), ("12", 12), (" 7 ", 7), ("abc", 0), ("-3", 0), ("²", 0), ("1.2", 0)],
)
def test_per_job_last_event_id(header: str | None, seq: int) -> None:
    assert cursor.job_seq(header) == seq


def test_multiplexed_cursor_round_trip() -> None:
    ids = [str(JOB), OTHER]
    tag = cursor.stream_tag(ids)
    ledger = Ledger(ids, {str(JOB): 12, OTHER: 3}, gone=[OTHER])
    value = cursor.encode(tag, ledger)
    assert value == f"{tag}:12.x"
    resume = cursor.decode(value, ids, tag)
    assert resume.after == {str(JOB): 12}
    assert resume.gone == {OTHER}


@pytest.mark.parametrize("value", ["", "zzzz:1.2", "TAG:1", "TAG:1.2.3", "TAG:1.a", "TAG"])
def test_cursor_for_another_stream_or_malformed_is_ignored(value: str) -> None:
    ids = [str(JOB), OTHER]
    tag = cursor.stream_tag(ids)
    resume = cursor.decode(value.replace("TAG", tag), ids, tag)
    assert resume.after == {}
    assert resume.gone == set()


def test_tag_depends_on_the_order_of_ids() -> None:
    assert cursor.stream_tag([str(JOB), OTHER]) != cursor.stream_tag([OTHER, str(JOB)])


def test_since_merges_with_the_cursor_keeping_the_later_position() -> None:
    resume = cursor.Resume(after={str(JOB): 5})
    cursor.parse_since(f"{JOB}:3, {OTHER.upper()}:9,", resume)
    assert resume.after == {str(JOB): 5, OTHER: 9}


@pytest.mark.parametrize("since", ["nope:1", f"{JOB}", f"{JOB}:x", f"{JOB}:-1"])
def test_malformed_since_is_an_invalid_request(since: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        cursor.parse_since(since, cursor.Resume())
    assert caught.value.code == "invalid_since"


def test_frame_without_id_is_not_a_resume_point() -> None:
    event = WireEvent(str(JOB), 4, "progress", '{"seq":4}')
    assert frame(event, None).encode() == b'event: progress\ndata: {"seq":4}\n\n'

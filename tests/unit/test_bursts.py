"""`worker.bursts.Decoding`: segments handed over in the bursts they were decoded in."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import pytest

from worker.bursts import Decoding

pytestmark = pytest.mark.unit


def test_a_burst_is_handed_over_whole_while_the_next_one_decodes() -> None:
    first_done = threading.Event()
    go_on = threading.Event()

    def decode() -> Iterator[str]:
        yield from ("a", "b", "c")
        first_done.set()  # runs once "c" is queued
        assert go_on.wait(10)
        yield "d"

    decoding = Decoding(decode())
    try:
        bursts = decoding.bursts()
        assert first_done.wait(10)
        assert next(bursts) == (["a", "b", "c"], False)
        go_on.set()
        rest = list(bursts)
    finally:
        decoding.close()
    assert [s for burst, _ in rest for s in burst] == ["d"]
    assert [finished for _, finished in rest][-1] is True
    assert not any(finished for _, finished in rest[:-1])


def test_an_error_while_decoding_is_raised_in_the_job_thread_after_earlier_segments() -> None:
    handed_over = threading.Event()

    def decode() -> Iterator[str]:
        yield "a"
        assert handed_over.wait(10)  # fail only once the job's thread has "a"
        raise RuntimeError("decoder failed")

    decoding = Decoding(decode())
    seen: list[tuple[list[str], bool]] = []

    def consume() -> None:
        for burst, finished in decoding.bursts():
            seen.append((burst, finished))
            handed_over.set()

    try:
        with pytest.raises(RuntimeError, match="decoder failed"):
            consume()
    finally:
        decoding.close()
    assert seen == [(["a"], False)]


def test_close_stops_decoding_after_the_current_segment() -> None:
    produced = itertools.count()
    closed = threading.Event()

    def decode() -> Iterator[int]:
        try:
            while True:
                time.sleep(0.01)
                yield next(produced)
        finally:
            closed.set()

    decoding = Decoding(decode())
    burst, finished = next(decoding.bursts())
    assert burst
    assert not finished
    decoding.close()
    assert closed.is_set()  # the generator was closed, its thread has ended
    count = next(produced)
    time.sleep(0.1)
    assert next(produced) == count + 1  # nothing decoded after close()

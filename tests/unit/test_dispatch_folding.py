"""Dispatch passes asked for while one runs are folded into one more, in the caller's thread,
and a caller is never kept running passes for others (`core.dispatch_loop.Dispatcher.run`)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from core import dispatch_loop
from core.dispatch import DispatchReport
from core.dispatch_loop import Dispatcher

pytestmark = pytest.mark.unit


def _dispatcher(seconds: float, passes: list[float]) -> Dispatcher:
    parts: Any = None  # a pass here touches none of them
    dispatcher = Dispatcher(parts, parts, parts, parts, parts)

    def slow_pass() -> DispatchReport:
        passes.append(time.monotonic())
        time.sleep(seconds)
        return DispatchReport()

    dispatcher._pass = slow_pass  # type: ignore[method-assign]
    return dispatcher


def test_a_request_during_a_pass_is_folded_into_one_more() -> None:
    passes: list[float] = []
    dispatcher = _dispatcher(0.2, passes)
    caller = threading.Thread(target=dispatcher.run)
    caller.start()
    time.sleep(0.05)
    assert dispatcher.run() is None, "a pass is running: the request is folded"
    assert dispatcher.run() is None
    caller.join(5)
    assert len(passes) == 2, "two requests during the pass make one more pass"


def test_a_caller_is_not_kept_running_passes_while_requests_keep_coming() -> None:
    passes: list[float] = []
    dispatcher = _dispatcher(0.1, passes)
    stop = threading.Event()

    def keep_asking() -> Any:
        while not stop.is_set():  # as the background thread does when every pass is slow
            dispatcher.run()
            time.sleep(0.02)

    caller_done = threading.Event()

    def caller() -> None:
        dispatcher.run()
        caller_done.set()

    first = threading.Thread(target=caller)
    first.start()
    time.sleep(0.03)
    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        assert caller_done.wait(2), "the caller returned after its bounded folded passes"
        assert len(passes) <= dispatch_loop.FOLDED_PASSES + 2
    finally:
        stop.set()
        asker.join(5)
        first.join(5)

"""Waiting on a condition instead of sleeping for a guessed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T | None], timeout: float, interval: float = 0.1, what: str = ""
) -> T:
    """Call `predicate` every `interval` seconds until it returns something truthy, and return
    that; raise TimeoutError (naming `what`) if it has not after `timeout` seconds. Exceptions
    from `predicate` propagate at once (a predicate can fail fast on a state that can no longer
    turn into the wanted one)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)

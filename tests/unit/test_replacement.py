"""Replacing a pool process whose decoding step was abandoned: never the process itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from worker.replacement import ProcessAbandoned, replace_process

pytestmark = pytest.mark.unit


def test_a_pool_process_is_killed_and_the_main_process_never() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert replace_process(child.pid)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert not replace_process(os.getpid()), "a solo pool runs tasks in the main process"
    assert not replace_process(None)


def test_a_process_already_gone_is_no_error() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not replace_process(child.pid)


def test_an_abandoned_run_is_a_celery_ignore() -> None:
    """Celery acknowledges an `Ignore` and stores no state: the message is done with."""
    from celery.exceptions import Ignore

    assert issubclass(ProcessAbandoned, Ignore)

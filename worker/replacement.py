"""Replacing a pool process whose decoding step was abandoned.

CTranslate2 cannot stop a decoding step. A run that loses its job mid-step (cancelled, deleted,
retried or taken over) therefore returns at once without waiting for it (`Outcome("abandoned")`,
`worker.pipeline`), leaving a decoding thread that computes, for up to a batch's time, a result
nobody will read; the next job in that process would share its CPU threads. So the task raises
`ProcessAbandoned`, a Celery `Ignore`, and in the Celery main process `ReplacingRequest`:

1. acknowledges the message, as Celery does for any `Ignore`. Nothing is lost: the job's state
   is in Postgres and whoever supersedes the run has a message of its own. Nothing is
   redelivered either, so no attempt is counted and no stale message can later take a retried
   job over;
2. then terminates that pool process (SIGKILL, through the pool, so billiard counts it as a
   controlled termination and forks a replacement at once). The replacement loads its model
   (`worker_process_init`) before it takes the next message.

The result reaches the main process only after the pool process has sent it, so the
acknowledgement always comes first. The main process itself is never stopped: a solo pool runs
tasks in it, and there the abandoned step runs out in the background instead.
"""

from __future__ import annotations

import logging
import os
import signal
from typing import Any

from billiard.einfo import ExceptionWithTraceback
from celery import signals
from celery.exceptions import Ignore
from celery.worker.request import Request

logger = logging.getLogger(__name__)


class ProcessAbandoned(Ignore):
    """Raised by the task: acknowledge the message, then replace the pool process."""


class _Worker:
    """The worker of this main process, remembered when it starts (`worker_init`): its pool is
    the one that can terminate a pool process as a controlled termination."""

    controller: Any = None


@signals.worker_init.connect
def _remember_worker(sender: Any = None, **_: Any) -> None:
    _Worker.controller = sender


def replace_process(pid: int | None) -> bool:
    """Terminate pool process `pid` (never this process); the pool forks its replacement."""
    if not pid or pid == os.getpid():
        return False
    pool = getattr(_Worker.controller, "pool", None)
    terminate = getattr(pool, "terminate_job", None)
    try:
        if terminate is not None:
            terminate(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except (OSError, NotImplementedError) as exc:
        logger.warning("could not replace pool process %d: %s", pid, exc)
        return False
    logger.info("replaced pool process %d: its decoding step was abandoned", pid)
    return True


class ReplacingRequest(Request):
    """The transcription task's request in the main process (the pool hands results back to
    it): an abandoned run's pool process is replaced once its message is acknowledged."""

    def on_failure(
        self, exc_info: Any, send_failed_event: bool = True, return_ok: bool = False
    ) -> None:
        super().on_failure(exc_info, send_failed_event=send_failed_event, return_ok=return_ok)
        exc = exc_info.exception
        if isinstance(exc, ExceptionWithTraceback):
            exc = exc.exc
        if isinstance(exc, ProcessAbandoned):
            replace_process(self.worker_pid)

"""Crash injection for the test suite's fault tier. Off unless the worker's environment says so.

A file that crashes the decoder kills the worker process outright, so no exception handler
runs; the platform must still end such a job `failed` after MAX_ATTEMPTS. To test that
deterministically, a worker started with `SOUNDSCRIPTER_TEST_CRASH_SHA256=<hex digest>` kills
its own process with SIGKILL when it starts on a file with that SHA-256. The variable is read
from the process environment only (not from `.env`, settings or any request), so no upload can
turn it on, and it is ignored when ENVIRONMENT=production.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
from pathlib import Path

from core.settings import get_settings

logger = logging.getLogger(__name__)

CRASH_VARIABLE = "SOUNDSCRIPTER_TEST_CRASH_SHA256"


def crash_if_configured(path: Path) -> None:
    target = os.environ.get(CRASH_VARIABLE, "").strip().lower()
    if not target or get_settings().environment == "production":
        return
    digest = hashlib.sha256()
    with path.open("rb") as media:
        for chunk in iter(lambda: media.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() == target:
        logger.error("test crash trigger: killing this worker process")
        os.kill(os.getpid(), signal.SIGKILL)

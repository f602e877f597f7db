"""The watch over a running job: its lease renewed, its ownership checked twice a second.

A job's thread spends most of its time waiting for the decoding thread, which may be inside
one decoding step for seconds on a large model, so it cannot notice a cancel by itself before
its next write. `LeaseKeeper` runs beside it: every `CANCEL_CHECK_SECONDS` it checks that the
run still owns its job (`lifecycle.owns`, one primary-key read without a lock), and every
quarter of `JOB_LEASE_SECONDS` it renews the lease instead (a fenced, locked update), so the
sweeper knows the worker lives. Once the run is found superseded (cancelled, deleted, retried,
or taken over after its worker was presumed lost) `lost` is set and the callbacks given to
`on_lost` run in this thread: the pipeline's stops waiting for the decoding step. Postgres is
the truth here; nothing depends on Redis being up.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from core import lifecycle
from core.db import Database

logger = logging.getLogger(__name__)


class LeaseKeeper(threading.Thread):
    """Renews the job's lease and notices when the run no longer owns its job."""

    def __init__(
        self,
        db: Database,
        claim: Any,
        lease_seconds: int,
        check_seconds: float | None = None,
        *,
        owns: Callable[[Session, Any], bool] = lifecycle.owns,
        renew: Callable[[Session, Any, int], bool] = lifecycle.renew_lease,
    ):
        """`claim` is a job's `Claim`, or with `owns` and `renew` for it, what else holds a
        lease (a piece's, `core.pieces`)."""
        super().__init__(daemon=True, name="lease-keeper")
        self.db = db
        self.claim = claim
        self._owns = owns
        self._renew = renew
        self.lease_seconds = lease_seconds
        self.renew_seconds = max(1.0, lease_seconds / 4)
        self.check_seconds = min(check_seconds or self.renew_seconds, self.renew_seconds)
        self.stopped = threading.Event()
        self.lost = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def run(self) -> None:
        checks_per_renewal = max(1, round(self.renew_seconds / self.check_seconds))
        for tick in itertools.count(1):
            if self.stopped.wait(self.check_seconds):
                return
            renew = tick % checks_per_renewal == 0
            try:
                with self.db.session() as session:
                    if renew:
                        owned = self._renew(session, self.claim, self.lease_seconds)
                    else:
                        owned = self._owns(session, self.claim)
            except Exception as exc:  # the database may be briefly unreachable
                logger.warning("lease renewal failed: %s", exc)
                continue
            if not owned:
                self._lose()
                return

    def on_lost(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the run is found superseded (at once if it already was)."""
        with self._lock:
            if not self.lost.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def _lose(self) -> None:
        logger.info("the job is no longer this run's: cancelled, deleted or taken over")
        with self._lock:
            self.lost.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def stop(self) -> None:
        self.stopped.set()

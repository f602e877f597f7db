"""When dispatch passes run in an API process (`core.dispatch` says what one does).

`Dispatcher.run` runs a pass now: the upload and retry routes call it after their commit (so
a job meets an idle worker within milliseconds), and an upload answers with the estimates
that pass made. Passes requested while one is running are folded into one more pass after it
(at most `FOLDED_PASSES` in the caller's thread). `Dispatcher.start` adds a thread that listens on
`soundscripter_dispatch` (a trigger notifies it whenever a job starts, stops running or is
queued again) and runs a pass on each notification and at least every
`DISPATCH_INTERVAL_SECONDS`. A lost database connection is retried; meanwhile the interval
still drives passes.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

from core import estimates
from core.db import Database
from core.dispatch import (
    DISPATCH_LOCK,
    DispatchReport,
    dispatch_once,
    read_active,
    take_lock,
)
from core.events import EventPublisher, JobEvent
from core.models import utcnow
from core.queue import JobQueue
from core.settings import Settings
from core.workers import PoolView, WorkerDirectory

logger = logging.getLogger(__name__)

CHANNEL = "soundscripter_dispatch"
FOLDED_PASSES = 1
"""Passes a caller runs after its own for requests folded into it. Bounded, so that an upload
whose pass is slow (a broker that refuses every publish) still gets its answer; the background
thread runs a pass at least every `DISPATCH_INTERVAL_SECONDS` and takes the rest."""
ESTIMATE_LOCK = DISPATCH_LOCK + 1
"""Advisory lock id of the estimate writers (apart: writing them never delays a dispatch)."""


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    running: bool = False
    again: bool = False


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        jobs: JobQueue,
        workers: WorkerDirectory,
        publisher: EventPublisher,
    ):
        self.settings = settings
        self.db = db
        self.jobs = jobs
        self.workers = workers
        self.publisher = publisher
        self._state = _State()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> DispatchReport | None:
        """A pass now, or (one is running in this process) one more after it: None then."""
        state = self._state
        with state.lock:
            if state.running:
                state.again = True
                return None
            state.running = True
        report = None
        try:
            for _ in range(FOLDED_PASSES + 1):
                report = self._pass()
                with state.lock:
                    if not state.again:
                        return report
                    state.again = False
            return report
        finally:
            with state.lock:
                state.running = False

    def _pass(self) -> DispatchReport:
        pools = self.workers.view()
        report = DispatchReport()
        try:
            report = dispatch_once(self.settings, self.db, self.jobs, pools)
            events = self._estimate(pools, report)
        except Exception as exc:  # the database or broker may be briefly unreachable
            logger.warning("dispatch pass failed: %s", exc)
            return report
        self.publisher.publish(*events)
        return report

    def _estimate(self, pools: PoolView, report: DispatchReport) -> list[JobEvent]:
        now = utcnow()
        with self.db.session() as session:
            if not take_lock(session, ESTIMATE_LOCK):
                return []
            active = read_active(session, now, self.settings.dispatch_timeout_seconds, pools)
            report.estimates, events = estimates.write_estimates(session, active, pools, now)
            return events

    # --- the background thread -------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._listen, name="dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.dispatch_interval_seconds + 5)

    def _conninfo(self) -> str:
        url = make_url(self.settings.database_url).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def _listen(self) -> None:
        import psycopg  # here: the unit tier imports this module without the database driver

        interval = self.settings.dispatch_interval_seconds
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo(), autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=interval, stop_after=1):
                            pass
                        self.run()
            except psycopg.Error as exc:
                logger.warning("dispatch notifications unavailable, retrying: %s", exc)
                if self._stop.wait(interval):
                    return
                self.run()

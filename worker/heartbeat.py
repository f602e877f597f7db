"""The worker group's heartbeat: a thread of the Celery main process announces the group.

Why the main process: it is the one that consumes the model queues, so a beat means "these
queues have a consumer", and it knows every slot's current job (Celery records each task a
pool process has accepted in `celery.worker.state.active_requests`, the task id being the job
id). One key per group, whatever the concurrency. The thread starts once the consumer is
ready (`worker_ready`), after the pool processes were forked, and its beat is deleted on a warm
shutdown (`worker_shutdown`); a killed group's beat expires after three intervals.

Redis down never stops the worker: a failed beat is logged (once per outage) and retried at
the next interval.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import UTC, datetime

import redis
from celery.worker import state as worker_state

from core.model_catalog import multilingual_from_files
from core.queue import model_queue_name
from core.settings import Settings
from core.workers import TTL_INTERVALS, ModelServed, WorkerBeat, remove_beat, write_beat
from worker.transcriber import BUNDLED_MODELS, resolve_model

logger = logging.getLogger(__name__)


def models_served(settings: Settings) -> list[ModelServed]:
    """The group's models with their queues, and whether each is multilingual (read from the
    model's directory: the bundled one or a local path; null for a name to be downloaded)."""
    served = []
    for name in settings.models_served():
        multilingual = None
        try:
            location = resolve_model(name, settings.models_dir)
            if name in BUNDLED_MODELS or location != name or os.path.isdir(location):
                multilingual = multilingual_from_files(location)
        except Exception as exc:  # a missing bundled package: the name will have to do
            logger.warning("cannot read model %s: %s", name, exc)
        served.append(
            ModelServed(
                name=name, queue=model_queue_name(settings, name), multilingual=multilingual
            )
        )
    return served


def current_jobs() -> list[str]:
    return sorted(str(request.id) for request in list(worker_state.active_requests))


class Heartbeat:
    def __init__(self, settings: Settings, node: str):
        self.settings = settings
        self.interval = settings.worker_heartbeat_seconds
        self.ttl = self.interval * TTL_INTERVALS
        self.node = node
        self.started_at = datetime.now(UTC)
        self.models = models_served(settings)
        self._client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=2, socket_connect_timeout=2
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._failing = False

    def beat(self) -> bool:
        """Write one beat. False (logged) when Redis did not take it."""
        beat = WorkerBeat(
            node=self.node,
            host=socket.gethostname(),
            pid=os.getpid(),
            models=self.models,
            concurrency=self.settings.worker_concurrency,
            jobs=current_jobs(),
            started_at=self.started_at,
            beat_at=datetime.now(UTC),
        )
        try:
            write_beat(self._client, self.settings.redis_prefix, beat, self.ttl)
        except redis.RedisError as exc:
            if not self._failing:
                logger.warning("heartbeat failed (Redis unreachable?); still working: %s", exc)
            self._failing = True
            return False
        if self._failing:
            logger.info("heartbeat written again")
        self._failing = False
        return True

    def start(self) -> None:
        self._thread.start()
        logger.info(
            "announcing worker %s (models %s) every %.0f s",
            self.node,
            ", ".join(m.name for m in self.models),
            self.interval,
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(self.interval)

    def stop(self) -> None:
        """Stop beating and withdraw the announcement (the group takes no more jobs)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            remove_beat(self._client, self.settings.redis_prefix, self.node)
        except redis.RedisError as exc:
            logger.warning("could not withdraw the heartbeat (it will expire): %s", exc)
        self._client.close()

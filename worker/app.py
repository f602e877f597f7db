"""The workers' Celery app: shared queue configuration plus per-process setup after fork."""

from __future__ import annotations

import logging
from typing import Any

from celery import signals

from core.logs import configure_logging
from core.queue import make_celery
from core.settings import get_settings
from worker import process
from worker.heartbeat import Heartbeat

logger = logging.getLogger(__name__)

settings = get_settings()
# Only the queues of the models this group serves (WORKER_MODELS).
celery_app = make_celery(settings, name="soundscripter-worker", models=settings.models_served())
celery_app.conf.update(
    include=["worker.tasks"],
    # Loading a large model in a new child can take longer than Celery's 4 s default.
    worker_proc_alive_timeout=120,
    worker_max_tasks_per_child=None,
    # No remote-control (pidbox) queue: its exclusive queue outlives a SIGKILLed worker's
    # connection for a while and would stop the restarted worker from starting. Workers are
    # watched through Supervisor and RabbitMQ instead.
    worker_enable_remote_control=False,
)


@signals.setup_logging.connect
def _setup_logging(**_: Any) -> None:
    configure_logging(settings.log_level, settings.log_format)


@signals.worker_process_init.connect
def _init_process(**_: Any) -> None:
    """Runs in each pool process after fork: its own connections, then the model, once."""
    process.start(settings)


_heartbeats: list[Heartbeat] = []


@signals.worker_ready.connect
def _announce(sender: Any = None, **_: Any) -> None:
    """In the main process, once it consumes its queues: start the heartbeat thread."""
    heartbeat = Heartbeat(settings, node=str(getattr(sender, "hostname", "") or "worker"))
    heartbeat.start()
    _heartbeats.append(heartbeat)


@signals.worker_shutdown.connect
def _withdraw(**_: Any) -> None:
    while _heartbeats:
        _heartbeats.pop().stop()

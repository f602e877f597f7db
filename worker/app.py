"""The workers' Celery app: shared queue configuration plus per-process setup after fork."""

from __future__ import annotations

import logging
from typing import Any

from celery import signals

from core.logs import configure_logging
from core.queue import make_celery
from core.settings import get_settings
from worker import process

logger = logging.getLogger(__name__)

settings = get_settings()
celery_app = make_celery(settings, name="soundscripter-worker")
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

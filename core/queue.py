"""Queue and task names, and the Celery configuration both processes share.

The API publishes by task *name* through `JobQueue`; only the worker registers the task body.
"""

from __future__ import annotations

import logging
import uuid

from celery import Celery
from kombu import Exchange, Queue

from core import lifecycle
from core.db import Database
from core.settings import Settings

logger = logging.getLogger(__name__)

TRANSCRIBE_TASK = "soundscripter.transcribe"


def make_celery(settings: Settings, name: str = "soundscripter") -> Celery:
    app = Celery(name, broker=settings.broker_url)
    exchange = Exchange(settings.queue_name, type="direct", durable=True)
    app.conf.update(
        task_queues=[
            Queue(
                settings.queue_name,
                exchange,
                routing_key=settings.queue_name,
                durable=True,
                queue_arguments={"x-queue-type": "classic"},
            )
        ],
        task_default_queue=settings.queue_name,
        task_default_exchange=settings.queue_name,
        task_default_routing_key=settings.queue_name,
        task_routes={TRANSCRIBE_TASK: {"queue": settings.queue_name}},
        task_create_missing_queues=False,
        # Reliability: a task is acknowledged only once it has finished, a worker that dies
        # hands its task back, and a worker reserves one task at a time.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_publish_retry=True,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0.2,
            "interval_step": 0.5,
            "interval_max": 1,
        },
        broker_transport_options={"confirm_publish": True},
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=4,
        broker_heartbeat=30,
        task_serializer="json",
        accept_content=["json"],
        # Results live in Postgres.
        result_backend=None,
        task_ignore_result=True,
        task_store_errors_even_if_ignored=False,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        enable_utc=True,
    )
    return app


class JobQueue:
    """Publishes transcription jobs to the broker by task name (API and sweeper)."""

    def __init__(self, settings: Settings):
        self._celery = make_celery(settings, name="soundscripter-publisher")

    def enqueue(self, job_id: uuid.UUID) -> bool:
        """Publish one job (task id = job id). False when the broker did not confirm it."""
        try:
            self._celery.send_task(TRANSCRIBE_TASK, args=[str(job_id)], task_id=str(job_id))
        except Exception as exc:  # kombu raises many types for an unreachable or refusing broker
            logger.warning("publishing job %s failed: %s", job_id, exc)
            return False
        return True

    def close(self) -> None:
        self._celery.close()


def enqueue_and_mark(db: Database, jobs: JobQueue, job_id: uuid.UUID) -> bool:
    """Publish a committed job, then record the broker's confirmation (`enqueued_at`). A job
    the broker did not confirm stays queued without it, and the sweeper publishes it later."""
    if not jobs.enqueue(job_id):
        return False
    with db.session() as session:
        lifecycle.mark_enqueued(session, job_id)
    return True

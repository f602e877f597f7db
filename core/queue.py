"""Queue and task names, and the Celery configuration both processes share.

The API publishes by task *name* through `enqueue()`; only the worker registers the task body.
"""

from __future__ import annotations

import logging
import uuid
from functools import lru_cache

from celery import Celery
from kombu import Exchange, Queue

from core.settings import Settings, get_settings

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


@lru_cache
def publisher() -> Celery:
    return make_celery(get_settings(), name="soundscripter-publisher")


def enqueue(job_id: uuid.UUID) -> bool:
    """Publish one transcription job (task id = job id). False when the broker did not confirm."""
    try:
        publisher().send_task(TRANSCRIBE_TASK, args=[str(job_id)], task_id=str(job_id))
    except Exception as exc:  # kombu raises many types for an unreachable or refusing broker
        logger.warning("publishing job %s failed: %s", job_id, exc)
        return False
    return True

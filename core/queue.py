"""Queue and task names, and the Celery configuration both processes share.

Each model has its own queue (a *model pool*): `<QUEUE_NAME>.<QUEUE_TYPE>.<model slug>`, bound
to the exchange `<QUEUE_NAME>.<QUEUE_TYPE>` with the queue's name as routing key. The API's
dispatcher (`core.dispatch`) publishes a job to its model's queue by task *name* through
`JobQueue` once a worker slot of the model is free; a worker consumes the
queues of the models it serves (`WORKER_MODELS`); only the worker registers the task body.
The queue type is part of the names, so switching `QUEUE_TYPE` never meets a queue declared
with the other type (RabbitMQ would refuse it): see docs/operations.md for the switch.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Sequence

from celery import Celery
from kombu import Exchange, Queue

from core.settings import Settings

logger = logging.getLogger(__name__)

TRANSCRIBE_TASK = "soundscripter.transcribe"
PIECE_TASK = "soundscripter.transcribe_piece"
"""One piece of a long recording (`core.pieces`), on the job's model queue."""
QUEUE_TYPES = ("classic", "quorum")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SLUG_LENGTH = 60


def model_slug(model: str) -> str:
    """A stable, broker-safe name for a model. A plain model name (`tiny.en`, `large-v3`) is
    kept as it is; a path or any other string becomes its last part, cleaned, plus 8 hex
    digits of the whole string's SHA-256, so two different strings never share a slug."""
    if model and len(model) <= _SLUG_LENGTH and not _UNSAFE.search(model) and model[0] != ".":
        return model
    readable = _UNSAFE.sub("-", model.rstrip("/").rsplit("/", 1)[-1]).strip(".-")
    digest = hashlib.sha256(model.encode()).hexdigest()[:8]
    return f"{readable[:_SLUG_LENGTH]}-{digest}" if readable else digest


def exchange_name(settings: Settings) -> str:
    return f"{settings.queue_name}.{settings.queue_type}"


def model_queue_name(settings: Settings, model: str) -> str:
    """The queue of `model`'s jobs for this instance and queue type."""
    return f"{exchange_name(settings)}.{model_slug(model)}"


def model_queue(settings: Settings, model: str) -> Queue:
    name = model_queue_name(settings, model)
    return Queue(
        name,
        # A topic exchange (matched exactly here) lets Celery's native delayed delivery
        # carry retries with a countdown when the queues are quorum queues.
        Exchange(exchange_name(settings), type="topic", durable=True),
        routing_key=name,
        durable=True,
        queue_arguments={"x-queue-type": settings.queue_type},
    )


def make_celery(
    settings: Settings, name: str = "soundscripter", models: Sequence[str] = ()
) -> Celery:
    """The Celery app of a process: `models` are the models whose queues it declares (a worker
    consumes them all); the first is the default queue. Empty: every model uploads may ask for.
    """
    queues = [model_queue(settings, model) for model in dict.fromkeys(models)] or [
        model_queue(settings, model) for model in settings.models_allowed()
    ]
    default = queues[0]
    app = Celery(name, broker=settings.broker_url)
    app.conf.update(
        task_queues=queues,
        task_default_queue=default.name,
        task_default_exchange=default.exchange.name,
        task_default_exchange_type=default.exchange.type,
        task_default_routing_key=default.routing_key,
        task_default_queue_type=settings.queue_type,
        task_create_missing_queues=False,
        # Quorum queues have no global QoS: Celery sees their `x-queue-type` and sets the
        # prefetch per consumer instead (so a worker consuming k queues may hold k x
        # concurrency messages, all unacknowledged until their job ends).
        worker_detect_quorum_queues=True,
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
    """Publishes transcription jobs to their model's queue by task name (API and sweeper).

    Each publish declares its queue (durable, idempotent), so a job for a model no worker has
    started for yet waits in its queue instead of being dropped as unroutable."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._celery = make_celery(settings, name="soundscripter-publisher")
        self._queues: dict[str, Queue] = {}

    def queue_for(self, model: str | None) -> Queue:
        name = model or self.settings.whisper_model
        if name not in self._queues:
            self._queues[name] = model_queue(self.settings, name)
        return self._queues[name]

    def enqueue(self, job_id: uuid.UUID, model: str | None = None) -> bool:
        """Publish one job (task id = job id) to `model`'s queue (default WHISPER_MODEL's).
        False when the broker did not confirm it."""
        try:
            self._celery.send_task(
                TRANSCRIBE_TASK,
                args=[str(job_id)],
                task_id=str(job_id),
                queue=self.queue_for(model),
            )
        except Exception as exc:  # kombu raises many types for an unreachable or refusing broker
            logger.warning("publishing job %s failed: %s", job_id, exc)
            return False
        return True

    def close(self) -> None:
        self._celery.close()

"""Celery task: a thin adapter that hands the job id to the pipeline."""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from sqlalchemy.exc import OperationalError

from core.events import EventPublisher
from core.queue import TRANSCRIBE_TASK
from core.storage import Storage
from worker.app import celery_app, settings
from worker.pipeline import Pipeline


@lru_cache
def pipeline() -> Pipeline:
    return Pipeline(
        settings,
        EventPublisher(settings.redis_url, settings.redis_prefix),
        Storage(settings.storage_dir),
    )


@celery_app.task(
    name=TRANSCRIBE_TASK,
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=20,
)
def transcribe(self: Any, job_id: str) -> str:
    request = self.request
    redelivered = bool((request.delivery_info or {}).get("redelivered")) or request.retries > 0
    outcome = pipeline().run(uuid.UUID(job_id), worker=request.hostname, redelivered=redelivered)
    return outcome.status

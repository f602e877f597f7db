"""Celery task: a thin adapter that hands the job id to the pipeline."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import OperationalError

from core.queue import TRANSCRIBE_TASK
from worker.app import celery_app
from worker.process import pipeline


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

"""Celery tasks: thin adapters that hand a job id to the pipeline, or a piece id of a split
recording to `worker.piece_runs`.

A run whose decoding step was abandoned (its job was cancelled, deleted or taken over mid-step)
ends in `ProcessAbandoned`: its message is acknowledged and its pool process replaced
(`worker.replacement`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import OperationalError

from core.queue import PIECE_TASK, TRANSCRIBE_TASK
from worker.app import celery_app
from worker.piece_runs import run_piece
from worker.pipeline import ABANDONED, Outcome
from worker.process import pipeline
from worker.replacement import ProcessAbandoned, ReplacingRequest

RETRIED: dict[str, Any] = {
    "bind": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 20,
    "Request": ReplacingRequest,
}
"""Both tasks: a database that is briefly unreachable is tried again with backoff."""


def _redelivered(request: Any) -> bool:
    return bool((request.delivery_info or {}).get("redelivered")) or request.retries > 0


def _ended(outcome: Outcome) -> str:
    if outcome.status == ABANDONED:
        raise ProcessAbandoned("the job was superseded mid-step; this process is replaced")
    return outcome.status


@celery_app.task(name=TRANSCRIBE_TASK, **RETRIED)
def transcribe(self: Any, job_id: str) -> str:
    request = self.request
    run = pipeline().run(
        uuid.UUID(job_id), worker=request.hostname, redelivered=_redelivered(request)
    )
    return _ended(run)


@celery_app.task(name=PIECE_TASK, **RETRIED)
def transcribe_piece(self: Any, piece_id: str) -> str:
    request = self.request
    run = run_piece(
        pipeline(), uuid.UUID(piece_id), worker=request.hostname, redelivered=_redelivered(request)
    )
    return _ended(run)

"""What one worker process owns: its pipeline, built once, after the fork.

Celery forks its pool processes from the main process, so nothing that holds a connection or
a model may be built before: `start` runs in each pool process (`worker_process_init`) and
builds the database engine, the event publisher, the storage and the model registry, then
loads the default model. A task asks for `pipeline()`.
"""

from __future__ import annotations

import logging

from core.db import Database
from core.events import EventPublisher
from core.settings import Settings, get_settings
from core.storage import Storage
from worker.pipeline import Pipeline
from worker.transcriber import Transcribers

logger = logging.getLogger(__name__)

_pipeline: Pipeline | None = None


def build_pipeline(settings: Settings) -> Pipeline:
    return Pipeline(
        settings,
        Database.from_url(settings.database_url),
        EventPublisher(settings.redis_url, settings.redis_prefix),
        Storage(settings.storage_dir),
        Transcribers(settings),
    )


def start(settings: Settings) -> None:
    """Build this process's pipeline and load the default model (a failure to load is logged;
    the first job tries again)."""
    global _pipeline
    _pipeline = build_pipeline(settings)
    try:
        _pipeline.models.get()
    except Exception:
        logger.exception("loading the model failed; it will be retried on the first job")


def pipeline() -> Pipeline:
    """This process's pipeline (built here if `start` did not run, as in a solo pool)."""
    if _pipeline is None:
        start(get_settings())
    assert _pipeline is not None
    return _pipeline

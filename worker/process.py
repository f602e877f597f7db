"""What one worker process owns: its pipeline, built once, after the fork.

Celery forks its pool processes from the main process, so nothing that holds a connection or
a model may be built before: `start` runs in each pool process (`worker_process_init`) and
builds the database engine, the event publisher, the storage and the model registry, then
loads the first model the group serves (`WORKER_MODELS`). A task asks for `pipeline()`.
"""

from __future__ import annotations

import logging

import redis

from core.db import Database
from core.events import EventPublisher
from core.piece_queue import PieceQueue
from core.settings import Settings, get_settings
from core.storage import build_storage
from worker.pipeline import Pipeline
from worker.splitting import Splitter, free_slots
from worker.transcriber import Transcribers

logger = logging.getLogger(__name__)

_pipeline: Pipeline | None = None


def build_pipeline(settings: Settings) -> Pipeline:
    db = Database.from_url(settings.database_url)
    beats = redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    return Pipeline(
        settings,
        db,
        EventPublisher(settings.redis_url, settings.redis_prefix),
        build_storage(settings),
        Transcribers(settings),
        splitter=Splitter(
            settings,
            db,
            PieceQueue(settings),
            lambda model: free_slots(settings, db, beats, model),
        ),
    )


def start(settings: Settings) -> None:
    """Build this process's pipeline and load the group's first model (a failure to load is logged;
    the first job tries again)."""
    global _pipeline
    _pipeline = build_pipeline(settings)
    try:
        _pipeline.models.get(settings.models_served()[0])
    except Exception:
        logger.exception("loading the model failed; it will be retried on the first job")


def pipeline() -> Pipeline:
    """This process's pipeline (built here if `start` did not run, as in a solo pool)."""
    if _pipeline is None:
        start(get_settings())
    assert _pipeline is not None
    return _pipeline

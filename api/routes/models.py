"""The models on offer: each with its live worker slots, waiting jobs and measured speed.

Offered: the models an upload may name (`WHISPER_MODEL`, `ALLOWED_MODELS`) and any model a
live worker group announces. Worker slots come from the heartbeats in Redis (one read per
request); waiting jobs and speed come from Postgres, the record of the work.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from api.deps import PrincipalDep, ResourcesDep
from api.resources import Resources
from api.schemas import ModelList, ModelPublic
from core import model_catalog

router = APIRouter(prefix="/api/models", tags=["models"])

SPEED_SAMPLE = 50
"""Completed jobs per model (the most recent) that its measured speed is taken from."""

_QUEUED = sa.text(
    "SELECT model, count(*) FROM transcriptions WHERE status = 'queued' GROUP BY model"
)
# Seconds of audio per second of work over each model's most recent completed jobs.
_SPEED = sa.text(
    """
    SELECT model, sum(duration_seconds) / nullif(sum(work), 0) FROM (
        SELECT model, duration_seconds,
               extract(epoch FROM completed_at - started_at) AS work,
               row_number() OVER (PARTITION BY model ORDER BY completed_at DESC) AS n
        FROM transcriptions
        WHERE status = 'completed' AND duration_seconds > 0
              AND started_at IS NOT NULL AND completed_at > started_at
    ) AS recent
    WHERE n <= :sample
    GROUP BY model
    """
)


def _figures(session: Session) -> tuple[dict[str, int], dict[str, float]]:
    queued = {str(m): int(n) for m, n in session.execute(_QUEUED).all()}
    speed = {
        str(m): round(float(s), 2)
        for m, s in session.execute(_SPEED, {"sample": SPEED_SAMPLE}).all()
        if s is not None
    }
    return queued, speed


def list_models(resources: Resources) -> ModelList:
    pools = resources.workers.view()
    with resources.db.session() as session:
        queued, speed = _figures(session)
    items = []
    for name in pools.offered(resources.settings):
        multilingual = model_catalog.multilingual(name, pools.multilingual.get(name))
        items.append(
            ModelPublic(
                name=name,
                multilingual=multilingual,
                languages=model_catalog.languages(multilingual, name),
                tasks=model_catalog.tasks(multilingual),
                workers=pools.slots.get(name, 0),
                queued=queued.get(name, 0),
                speed=speed.get(name),
            )
        )
    return ModelList(items=items)


@router.get("", response_model=ModelList)
async def models(resources: ResourcesDep, _: PrincipalDep) -> Any:
    """Every model an upload may ask for, with its live worker slots, waiting jobs and speed."""
    return await run_in_threadpool(list_models, resources)

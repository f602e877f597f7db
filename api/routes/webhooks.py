"""A transcription's webhook messages and their delivery (core.webhook_delivery sends them)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from sqlmodel import col, select

from api.access.visibility import visible_transcriptions
from api.deps import PrincipalDep, SessionDep
from api.schemas import ErrorBody, WebhookDeliveryList, WebhookDeliveryPublic
from core.errors import NotFound
from core.models import Transcription, WebhookDelivery

router = APIRouter(prefix="/api/transcriptions", tags=["transcriptions"])


@router.get(
    "/{job_id}/webhooks",
    response_model=WebhookDeliveryList,
    responses={404: {"model": ErrorBody, "description": "No such transcription"}},
)
def list_webhooks(job_id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> Any:
    """The webhook messages of a transcription, oldest first: one per terminal state it
    reached with a webhook URL (a retried job that ends again sends another)."""
    visible = visible_transcriptions(principal).where(Transcription.id == job_id)
    if session.exec(visible).first() is None:
        raise NotFound("No transcription with this id.")
    deliveries = session.exec(
        select(WebhookDelivery)
        .where(WebhookDelivery.transcription_id == job_id)
        .order_by(col(WebhookDelivery.created_at), col(WebhookDelivery.id))
    ).all()
    return WebhookDeliveryList(items=[WebhookDeliveryPublic.of(d) for d in deliveries])

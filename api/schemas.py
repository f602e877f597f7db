"""Wire schemas: what the HTTP API returns (tables live in `core.models`).

The public Transcription shape is read from the row by name: its option fields come from
`core.options.JobOptions`, the rest are named as the table names them (`seq` is `last_seq`,
`error` the row's `{code, message}`), so a new column reaches the API by one line here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.events import ErrorOut, SegmentOut
from core.models import Segment, Transcription
from core.options import JobOptions
from core.states import JobStatus


class TranscriptionPublic(JobOptions):
    model_config = ConfigDict(  # type: ignore[assignment]
        from_attributes=True, json_schema_serialization_defaults_required=True
    )

    id: uuid.UUID
    filename: str
    status: JobStatus
    progress: float
    duration_seconds: float | None
    language: str | None
    content_type: str | None
    media_kind: str
    size_bytes: int
    sha256: str
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    attempts: int
    restart_reason: str | None
    seq: int = Field(validation_alias="last_seq")
    error: ErrorOut | None
    text: str | None

    @classmethod
    def of(cls, job: Transcription) -> TranscriptionPublic:
        return cls.model_validate(job)


class TranscriptionDetail(TranscriptionPublic):
    segments: list[SegmentOut] = Field(default_factory=list)

    @classmethod
    def with_segments(cls, job: Transcription, segments: Sequence[Segment]) -> TranscriptionDetail:
        detail = cls.model_validate(job)
        detail.segments = [SegmentOut.of(s) for s in segments]
        return detail


class Rejection(BaseModel):
    filename: str
    error: ErrorOut


class UploadResult(BaseModel):
    items: list[TranscriptionPublic]
    rejected: list[Rejection]


class TranscriptionPage(BaseModel):
    items: list[TranscriptionPublic]
    next_cursor: str | None


class ErrorBody(BaseModel):
    error: ErrorOut


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}, **extra}


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "API keys are configured and none valid was sent"}
}

"""Wire schemas: what the HTTP API returns (tables live in `core.models`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from core.events import ErrorOut, SegmentOut
from core.models import Segment, Transcription


class TranscriptionPublic(BaseModel):
    id: uuid.UUID
    filename: str
    status: str
    progress: float
    duration_seconds: float | None
    language: str | None
    requested_language: str | None
    model: str
    task: str
    word_timestamps: bool
    vad: bool
    precise_timestamps: bool
    content_type: str | None
    media_kind: str
    size_bytes: int
    sha256: str
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    attempts: int
    seq: int
    error: ErrorOut | None
    text: str | None

    @classmethod
    def of(cls, job: Transcription) -> TranscriptionPublic:
        return cls(
            id=job.id,
            filename=job.filename,
            status=job.status,
            progress=job.progress,
            duration_seconds=job.duration_seconds,
            language=job.language,
            requested_language=job.requested_language,
            model=job.model,
            task=job.task,
            word_timestamps=job.word_timestamps,
            vad=job.vad,
            precise_timestamps=job.precise_timestamps,
            content_type=job.content_type,
            media_kind=job.media_kind,
            size_bytes=job.size_bytes,
            sha256=job.sha256,
            created_at=job.created_at,
            started_at=job.started_at,
            completed_at=job.completed_at,
            attempts=job.attempts,
            seq=job.last_seq,
            error=ErrorOut(code=job.error_code, message=job.error_message or "")
            if job.error_code
            else None,
            text=job.text,
        )


class TranscriptionDetail(TranscriptionPublic):
    segments: list[SegmentOut]

    @classmethod
    def with_segments(cls, job: Transcription, segments: list[Segment]) -> TranscriptionDetail:
        return cls(
            **TranscriptionPublic.of(job).model_dump(),
            segments=[segment_out(s) for s in segments],
        )


def segment_out(segment: Segment) -> SegmentOut:
    return SegmentOut(
        index=segment.index,
        start=segment.start,
        end=segment.end,
        text=segment.text,
        words=segment.words,
    )


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

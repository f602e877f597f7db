"""Wire schemas: what the HTTP API returns (tables live in `core.models`).

The public Transcription shape is read from the row by name: its option fields come from
`core.options.JobOptions`, the rest are named as the table names them (`seq` is `last_seq`,
`error` the row's `{code, message}`), so a new column reaches the API by one line here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.events import ErrorOut, EtaOut, SegmentOut, eta_of, position_of
from core.language_shares import LanguageShare
from core.models import Segment, Transcription, WebhookDelivery
from core.options import JobOptions
from core.states import JobStatus
from core.workers import PoolView


class TranscriptionPublic(JobOptions):
    model_config = ConfigDict(  # type: ignore[assignment]
        from_attributes=True, json_schema_serialization_defaults_required=True
    )

    id: uuid.UUID
    filename: str
    status: JobStatus
    progress: float
    duration_seconds: float | None
    language: str | None = Field(
        description="The language detected (or requested); for a recording in several "
        "languages, the one with the largest share."
    )
    languages: list[LanguageShare] | None = Field(
        default=None,
        description="Once completed: the languages found, with their share of the speech, "
        "largest first (each segment says its own `language`).",
    )
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
    reused_from: uuid.UUID | None = Field(
        default=None,
        description="Completed at upload from this earlier transcription of the same file, "
        "model and options (deduplication; send dedup=false to transcribe again).",
    )
    speakers: dict[str, str] | None = Field(
        default=None,
        description="With speaker labels: each speaker id (S1, S2, ... as segments and words "
        "carry it) and its display name (the id until renamed with PATCH).",
    )
    speakers_error: str | None = Field(
        default=None,
        description="Why a completed job asked for speakers has no speaker labels (its "
        "transcript is complete).",
    )
    waiting_for_worker: bool = Field(
        default=False,
        description="Queued for a model that no live worker serves now: the job starts as "
        "soon as a worker for its model joins (see GET /api/models).",
    )
    priority: Literal["low", "normal", "high"] = Field(
        default="normal",
        description="Waiting high jobs start before every waiting normal one, normal before "
        "low (the upload's `priority`, else its key's default).",
    )
    position: int | None = Field(
        default=None,
        description="While queued: its place among the waiting jobs of its model in the "
        "order they will start (1 = starts next); null otherwise.",
    )
    eta: EtaOut | None = Field(
        default=None,
        description="Estimates from measured speed: while queued its start and end, while "
        "processing its end; null when they cannot be made yet.",
    )
    revision: int = Field(
        default=0,
        description="The transcript's revision: 0 as recognised, one more per edit (PATCH); "
        "GET .../revisions lists them.",
    )
    edited: bool = Field(
        default=False, description="Whether the transcript was edited since it was recognised."
    )
    edited_at: datetime | None = Field(default=None, description="When it was last edited.")

    @classmethod
    def of(cls, job: Transcription, pools: PoolView | None = None) -> TranscriptionPublic:
        public = cls.model_validate(job)
        public.fill(job, pools)
        return public

    def fill(self, job: Transcription, pools: PoolView | None) -> None:
        """The fields that are not read from the row by name."""
        self.waiting_for_worker = waiting_for_worker(job, pools)
        self.edited = job.revision > 0
        self.position = position_of(job)
        self.eta = eta_of(job)


def waiting_for_worker(job: Transcription, pools: PoolView | None) -> bool:
    """Queued, and the workers' heartbeats (when readable) show none serving its model."""
    if pools is None or not pools.reachable or job.status != JobStatus.queued.value:
        return False
    return not pools.serves(job.model)


class TranscriptionDetail(TranscriptionPublic):
    segments: list[SegmentOut] = Field(default_factory=list)

    @classmethod
    def with_segments(
        cls,
        job: Transcription,
        segments: Sequence[Segment | SegmentOut],
        pools: PoolView | None = None,
    ) -> TranscriptionDetail:
        detail = cls.model_validate(job)
        detail.fill(job, pools)
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
    total: int = Field(
        description="How many transcriptions match the filters, on every page, counted up to "
        "10,000 for the whole library and 100 for a search or filter (see `total_exact`)."
    )
    total_exact: bool = Field(
        description="False when more transcriptions match than `total` says (the count "
        "stopped at its limit)."
    )


class ModelPublic(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    name: str = Field(description="The value of an upload's `model` field.")
    multilingual: bool
    languages: list[str] = Field(description="Language codes it transcribes.")
    tasks: list[str] = Field(
        description="The `task` values it accepts: transcribe and, for a multilingual model, "
        "translate (the gist of the speech in English: looser than a transcript)."
    )
    workers: int = Field(description="Live worker slots serving it (from their heartbeats).")
    queued: int = Field(description="Jobs waiting for it.")
    speed: float | None = Field(
        description="Measured speed: seconds of audio transcribed per second of work, over "
        "its recent completed jobs; null before any."
    )


class SegmentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, description="The segment's `index`.")
    text: str = Field(
        max_length=10_000,
        description="Its corrected text (white space collapsed; at most 2,000 characters "
        "after that; empty to leave the segment blank).",
    )


class TranscriptionChanges(BaseModel):
    """PATCH /api/transcriptions/{id}: an edit of a completed transcript, stored as its next
    revision (the recognition stays retrievable as revision 0)."""

    model_config = ConfigDict(extra="forbid")

    speakers: dict[str, str] | None = Field(
        default=None,
        description="Speaker id -> new display name; an empty name gives back the id. Ids "
        "not mentioned keep their names.",
        max_length=64,
    )
    segments: list[SegmentChange] | None = Field(
        default=None,
        description="Segments whose text is corrected (their times stay; their word "
        "timestamps stay when the word count does).",
        max_length=1000,
    )
    revision: int | None = Field(
        default=None,
        description="The revision this edit was made on: when the transcript has changed "
        "since, the edit is refused (409 revision_conflict) instead of overwriting.",
    )


class RevisionPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_serialization_defaults_required=True
    )

    revision: int = Field(description="0 is the recognition; each edit adds one.")
    created_at: datetime | None = Field(description="When it was made (0: when recognised).")
    author: str | None = Field(description="The name of the API key that made the edit.")
    segments: list[int] = Field(description="Indexes of the segments whose text it changed.")
    speakers: bool = Field(description="Whether it renamed speakers.")


class RevisionList(BaseModel):
    items: list[RevisionPublic]


class BulkAction(BaseModel):
    """POST /api/transcriptions/bulk: one action on many transcriptions."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["delete", "cancel", "retry"]
    ids: list[str] = Field(
        min_length=1, max_length=500, description="Transcription ids (at most 500)."
    )


class BulkResult(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: str
    ok: bool
    status: JobStatus | None = Field(
        description="Its status after the action (null once deleted, or when not found)."
    )
    error: ErrorOut | None = Field(
        description="Why the action was refused for it: the code and message the single "
        "action would answer (not_found, invalid_state, ...)."
    )


class BulkResults(BaseModel):
    results: list[BulkResult] = Field(description="One per distinct id, in the order sent.")


class UploadLimits(BaseModel):
    """What an upload may be: the server's limits, for the upload form."""

    max_upload_bytes: int = Field(description="Largest file accepted (MAX_UPLOAD_MB).")
    max_duration_seconds: float = Field(description="Longest recording accepted.")
    max_files_per_upload: int = Field(description="Files one upload request may carry.")
    accepted_types: list[str] = Field(
        description="Media types a file picker may offer (any audio or video ffmpeg reads)."
    )
    accepted_extensions: list[str] = Field(
        description="File name extensions of the container formats accepted."
    )


class ModelList(BaseModel):
    items: list[ModelPublic]


class WebhookDeliveryPublic(BaseModel):
    """One webhook message of a transcription and how its delivery went."""

    model_config = ConfigDict(
        from_attributes=True, json_schema_serialization_defaults_required=True
    )

    id: uuid.UUID = Field(description="The message's webhook-id (the same in every attempt).")
    event: str = Field(description="transcription.completed, .failed or .cancelled")
    status: Literal["pending", "delivered", "failed"] = Field(
        description="pending (being sent, or waiting for its next attempt), delivered (a 2xx "
        "answer), failed (every attempt failed, or the target was refused)"
    )
    attempts: int
    next_attempt_at: datetime | None = Field(description="While pending: the next attempt.")
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> WebhookDeliveryPublic:
        public = cls.model_validate(delivery)
        if public.status != "pending":
            public.next_attempt_at = None
        return public


class WebhookDeliveryList(BaseModel):
    items: list[WebhookDeliveryPublic]


class ErrorBody(BaseModel):
    error: ErrorOut


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}, **extra}


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "API keys are configured and none valid was sent"}
}

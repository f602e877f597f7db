"""Transcriptions: upload, detail, edits and revisions, downloads, media, lifecycle (the
library's list, bulk actions and zip export: `api.routes.library`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlmodel import Session

from api import downloads, job_actions
from api.deps import PrincipalDep, ResourcesDep, SessionDep, StorageDep, UploadSlot
from api.ingest import ingest
from api.job_actions import load
from api.media_response import MEDIA_CSP, MediaResponse
from api.schemas import (
    ErrorBody,
    RevisionList,
    RevisionPublic,
    TranscriptionChanges,
    TranscriptionDetail,
    TranscriptionPublic,
    UploadResult,
    error_body,
)
from core import revisions
from core.errors import InvalidRequest, NotFound
from core.models import Transcription
from core.options import form_schema
from core.transcripts import FORMATS
from core.workers import PoolView

router = APIRouter(prefix="/api/transcriptions", tags=["transcriptions"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such transcription"},
    409: {"model": ErrorBody, "description": "The job's state forbids this"},
}

FILES_FIELD = {
    "type": "array",
    "items": {"type": "string", "format": "binary"},
    "description": "One or more audio or video files.",
}
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {"files": FILES_FIELD, **form_schema()},
                }
            }
        },
    }
}
"""The upload form as OpenAPI describes it: the files, then every job option's field."""


@router.post(
    "",
    status_code=202,
    response_model=UploadResult,
    openapi_extra=UPLOAD_BODY,
    responses={
        413: {"model": ErrorBody, "description": "A file is over the size limit"},
        415: {"model": ErrorBody, "description": "No file is usable media"},
        422: {"model": ErrorBody, "description": "Invalid form fields"},
        429: {"model": ErrorBody, "description": "Too many uploads or waiting jobs for this key"},
        503: {"model": ErrorBody, "description": "The media store cannot be reached"},
    },
)
async def upload(
    request: Request,
    resources: ResourcesDep,
    storage: StorageDep,
    principal: PrincipalDep,
    _: UploadSlot,
) -> Any:
    """Upload one or more files (field `files`); each good file becomes a queued job."""
    result = await ingest(request, resources, storage, principal)
    if not result.jobs:
        assert result.first_error is not None
        body = error_body(result.first_error.code, result.first_error.message)
        body["rejected"] = [r.model_dump() for r in result.rejected]
        return JSONResponse(body, status_code=result.first_error.status_code)
    return UploadResult(
        items=[TranscriptionPublic.of(j, result.pools) for j in result.jobs],
        rejected=result.rejected,
    )


def json_response(body: BaseModel) -> Response:
    """The body serialised once, by pydantic. Returned as a model, FastAPI would validate it
    again against the response model and dump it to dicts for `json.dumps`: 1.2 ms instead of
    0.2 ms for a page of 50 one-minute transcripts (100 KB of JSON)."""
    return Response(body.model_dump_json(), media_type="application/json")


_REVISION = Query(ge=0, description="A revision (0 = as recognised); the latest by default")


@router.get("/{job_id}", response_model=TranscriptionDetail, responses=_ERRORS)
def get_transcription(
    job_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    resources: ResourcesDep,
    revision: Annotated[int | None, _REVISION] = None,
) -> Any:
    """One transcription with its segments (at `revision`, else the latest)."""
    job = load(session, principal, job_id)
    pools = resources.workers.view() if job.status == "queued" else None
    return json_response(_detail(session, job, pools, revision))


def _detail(
    session: Session, job: Transcription, pools: PoolView | None, revision: int | None = None
) -> TranscriptionDetail:
    snapshot = revisions.at(session, job, revision)
    detail = TranscriptionDetail.with_segments(job, snapshot.segments, pools)
    if snapshot.revision != job.revision:
        detail.revision, detail.text, detail.speakers = (
            snapshot.revision,
            snapshot.text,
            snapshot.speakers,
        )
    return detail


@router.get("/{job_id}/transcript", responses=_ERRORS)
def download_transcript(
    job_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    format: Annotated[str, Query(pattern=f"^({'|'.join(FORMATS)})$")] = "txt",
    revision: Annotated[int | None, _REVISION] = None,
) -> Response:
    """The transcript as txt, srt, vtt, json, tsv or csv (available once segments exist): its
    latest revision, or `revision` (0 = as recognised). SRT and VTT are cut into readable
    cues; json, tsv and csv keep the segments."""
    job = load(session, principal, job_id)
    body, media_type, filename = downloads.render(session, job, format, revision)
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": downloads.disposition("attachment", filename)},
    )


@router.get("/{job_id}/revisions", response_model=RevisionList, responses=_ERRORS)
def list_revisions(job_id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> Any:
    """The transcript's revisions, oldest first: 0 is the recognition, then one per edit."""
    job = load(session, principal, job_id)
    return RevisionList(
        items=[RevisionPublic.model_validate(r) for r in revisions.history(session, job)]
    )


_MEDIA_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    206: {"description": "The requested range"},
    400: {"model": ErrorBody, "description": "Malformed Range header"},
    416: {"model": ErrorBody, "description": "The range starts past the end"},
    503: {"model": ErrorBody, "description": "The media store cannot be reached"},
}


@router.get("/{job_id}/audio", responses=_MEDIA_RESPONSES)
@router.head("/{job_id}/audio", responses=_MEDIA_RESPONSES, operation_id="media_headers")
def download_media(
    job_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, storage: StorageDep
) -> Response:
    """The original media (HEAD for its headers); supports HTTP Range requests for seeking."""
    job = load(session, principal, job_id)
    stored = storage.stat(job.storage_key)
    if stored is None:
        raise NotFound(
            "The media file of this transcription is no longer stored.", code="media_missing"
        )
    return MediaResponse(
        storage,
        stored,
        media_type=job.content_type or "application/octet-stream",
        headers={
            "Content-Disposition": downloads.disposition("inline", job.filename),
            "Content-Security-Policy": MEDIA_CSP,
        },
    )


@router.patch(
    "/{job_id}",
    response_model=TranscriptionDetail,
    responses={
        **_ERRORS,
        400: {"model": ErrorBody, "description": "The body is not JSON"},
        409: {
            "model": ErrorBody,
            "description": "Not completed, no speakers to rename, or changed since `revision`",
        },
        422: {"model": ErrorBody, "description": "Unknown segment or speaker, or bad text"},
    },
)
def change(
    job_id: uuid.UUID,
    changes: TranscriptionChanges,
    principal: PrincipalDep,
    session: SessionDep,
    resources: ResourcesDep,
) -> Any:
    """Edit a completed transcript: fix segment texts (`{"segments": [{"index": 3, "text":
    "..."}]}`) and/or rename speakers (`{"speakers": {"S1": "Alice"}}`). The edit becomes
    the next revision (the recognition stays, as revision 0); search, every download and the
    OpenAI-compatible answers use the latest. Answers the transcript as it now is; an edit
    that changes nothing records no revision."""
    if changes.speakers is None and changes.segments is None:
        raise InvalidRequest("Send `segments`, `speakers` or both.", code="invalid_request")
    job = load(session, principal, job_id, lock=True)
    revisions.edit(
        session,
        job,
        segments=[revisions.SegmentEdit(s.index, s.text) for s in changes.segments or []],
        names=changes.speakers,
        base_revision=changes.revision,
        author=principal.stamp,
    )
    return json_response(_detail(session, job, None))


@router.post("/{job_id}/cancel", response_model=TranscriptionPublic, responses=_ERRORS)
async def cancel(job_id: uuid.UUID, resources: ResourcesDep, principal: PrincipalDep) -> Any:
    """Cancel a queued or running job (a running one stops at its next segment)."""
    return TranscriptionPublic.of(await job_actions.cancel(resources, principal, job_id))


@router.post("/{job_id}/retry", response_model=TranscriptionPublic, responses=_ERRORS)
async def retry(job_id: uuid.UUID, resources: ResourcesDep, principal: PrincipalDep) -> Any:
    """Queue a failed or cancelled job again."""
    job = await job_actions.retry(resources, principal, job_id)
    return TranscriptionPublic.of(job, await run_in_threadpool(resources.workers.view))


@router.delete("/{job_id}", status_code=204, responses=_ERRORS)
async def delete(
    job_id: uuid.UUID, resources: ResourcesDep, storage: StorageDep, principal: PrincipalDep
) -> Response:
    """Delete the transcription and its stored media (a running job stops)."""
    await job_actions.delete(resources, storage, principal, job_id)
    return Response(status_code=204)

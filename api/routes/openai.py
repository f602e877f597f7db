"""OpenAI's audio API over the same jobs: transcriptions, translations, models.

Each request is an ordinary upload (`api.ingest`, with OpenAI's form: `api.openai_compat.form`)
that becomes a job in its owner's library; the request then waits for the job
(`api.openai_compat.waiting`) and answers in the format asked for, or streams the text as
segments are recognised. Errors under `/v1` are in OpenAI's shape (`api.openai_compat.errors`).
Details, limits and what is not supported: docs/integrations.md.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sse_starlette import EventSourceResponse

from api.access.keys import Principal
from api.deps import PrincipalDep, ResourcesDep, StorageDep, UploadSlot
from api.ingest import ingest
from api.openai_compat import answers
from api.openai_compat.errors import OpenAIRequestError, openai_body
from api.openai_compat.form import (
    DEFAULT_MODEL_ALIAS,
    RESPONSE_FORMATS,
    AudioRequest,
    read_request,
    upload_form,
)
from api.openai_compat.waiting import (
    TextDeltas,
    job_events,
    read_job,
    segments_of_event,
    wait_for_end,
)
from api.resources import Resources
from core.errors import NotFound
from core.models import Transcription
from core.states import JobStatus
from core.storage import Storage

router = APIRouter(
    prefix="/v1",
    tags=["OpenAI-compatible"],
    responses={401: {"description": "No valid API key (OpenAI's error shape)"}},
)

JOB_HEADER = "X-Transcription-Id"
"""Every answer about a job names it: the same job is in the library under /api/transcriptions."""

STARTED = int(time.time())
"""`created` of every model in the listing: when this API process started."""

FILE_FAULTS = frozenset(
    {
        "empty_file",
        "unsupported_media",
        "no_audio_stream",
        "undecodable_audio",
        "duration_exceeded",
        "unsupported_option",
        "language_unsupported",
    }
)
"""Codes of a job that failed because of its file or of what the request asked for (e.g.
translation on an English-only model): answered 400, like a request refused at once."""

_FORM_SCHEMA = {
    "type": "object",
    "required": ["file", "model"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "model": {"type": "string", "description": f"{DEFAULT_MODEL_ALIAS} or a model name"},
        "language": {"type": "string"},
        "prompt": {"type": "string"},
        "temperature": {"type": "number", "enum": [0]},
        "response_format": {"type": "string", "enum": list(RESPONSE_FORMATS)},
        "timestamp_granularities[]": {
            "type": "array",
            "items": {"type": "string", "enum": ["segment", "word"]},
        },
        "stream": {"type": "boolean"},
        "chunking_strategy": {"type": "string", "description": "Accepted and ignored."},
    },
}
_AUDIO_DOC: dict[str, Any] = {
    "openapi_extra": {
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": _FORM_SCHEMA}},
        }
    },
    "responses": {
        200: {
            "description": "The transcript in `response_format`, or with `stream=true` Server-Sent "
            "Events `transcript.text.delta` and `transcript.text.done`",
            "content": {"application/json": {}, "text/plain": {}, "text/event-stream": {}},
        },
        400: {"description": "A bad field or file (OpenAI's error shape)"},
        504: {"description": "Still running after OPENAI_WAIT_SECONDS: the error names the job"},
    },
}


def _job_error(status: int, code: str, message: str, job: Transcription) -> dict[str, Any]:
    url = f"/api/transcriptions/{job.id}"
    return openai_body(status, code, message, None, transcription_id=str(job.id), url=url)


def _job_answer(status: int, code: str, message: str, job: Transcription) -> JSONResponse:
    """An error about the job, never worth repeating the upload for: the SDKs do not retry."""
    return JSONResponse(
        _job_error(status, code, message, job),
        status_code=status,
        headers={"x-should-retry": "false", "Location": f"/api/transcriptions/{job.id}"},
    )


def _pending(job: Transcription, wait: float) -> tuple[int, str, str]:
    return (
        504,
        "transcription_pending",
        f"The transcription is still running after {wait:g} s; it goes on as "
        f"{job.id} in the library: GET /api/transcriptions/{job.id}.",
    )


def _ended(job: Transcription) -> tuple[int, str, str] | None:
    """The error a job's end is answered with (None: it completed)."""
    if job.status == JobStatus.failed.value:
        status = 400 if job.error_code in FILE_FAULTS else 500
        return status, job.error_code or "failed", job.error_message or "The job failed."
    if job.status == JobStatus.cancelled.value:
        return 409, "transcription_cancelled", "The transcription was cancelled."
    return None


async def _audio(
    request: Request, resources: Resources, storage: Storage, principal: Principal, task: str
) -> Response:
    result = await ingest(request, resources, storage, principal, upload_form(task))
    if not result.jobs:
        assert result.first_error is not None
        error = result.first_error
        raise OpenAIRequestError(error.message, param="file", code=error.code)
    assert result.pools is not None
    audio = read_request(result.form, task, result.pools, resources.settings)
    job = result.jobs[0]
    response = await _answer(request, resources, principal, job, audio)
    response.headers[JOB_HEADER] = str(job.id)
    return response


async def _answer(
    request: Request,
    resources: Resources,
    principal: Principal,
    job: Transcription,
    audio: AudioRequest,
) -> Response:
    if audio.stream:
        return EventSourceResponse(
            _stream(resources, principal, job),
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            ping=resources.live.ping_seconds,
            sep="\n",
        )
    if not await wait_for_end(request, resources, principal, job.id):
        return _job_answer(*_pending(job, resources.settings.openai_wait_seconds), job)
    found, segments = await read_job(resources, principal, job.id)
    if found is None:
        return _job_answer(404, "not_found", "The transcription was deleted.", job)
    problem = _ended(found)
    if problem is not None:
        return _job_answer(*problem, found)
    return answers.render(found, segments, audio)


def _sse(kind: str, body: dict[str, Any]) -> dict[str, str]:
    return {"event": kind, "data": json.dumps(body, ensure_ascii=False)}


async def _stream(
    resources: Resources, principal: Principal, job: Transcription
) -> AsyncIterator[dict[str, str]]:
    """Deltas as segments are recognised, then the final text (or an error event)."""
    wait = resources.settings.openai_wait_seconds
    deadline = asyncio.get_running_loop().time() + wait
    deltas = TextDeltas()
    events = job_events(resources, principal, job.id)
    try:
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    event = await anext(events)
            except StopAsyncIteration:
                return
            except TimeoutError:
                yield _sse("error", _job_error(*_pending(job, wait), job))
                return
            if event.type == "progress":
                for delta in deltas.of(segments_of_event(event)):
                    yield _sse(
                        "transcript.text.delta", {"type": "transcript.text.delta", "delta": delta}
                    )
            elif event.terminal:
                yield await _final(resources, principal, job)
    finally:
        await events.aclose()


async def _final(resources: Resources, principal: Principal, job: Transcription) -> dict[str, str]:
    found, _ = await read_job(resources, principal, job.id)
    if found is None:
        return _sse("error", _job_error(404, "not_found", "The transcription was deleted.", job))
    problem = _ended(found)
    if problem is not None:
        return _sse("error", _job_error(*problem, found))
    return _sse("transcript.text.done", {"type": "transcript.text.done", "text": found.text or ""})


@router.post("/audio/transcriptions", **_AUDIO_DOC)
async def transcriptions(
    request: Request,
    resources: ResourcesDep,
    storage: StorageDep,
    principal: PrincipalDep,
    _: UploadSlot,
) -> Response:
    """OpenAI's `audio.transcriptions.create`: the file becomes a job, answered when done."""
    return await _audio(request, resources, storage, principal, "transcribe")


@router.post("/audio/translations", **_AUDIO_DOC)
async def translations(
    request: Request,
    resources: ResourcesDep,
    storage: StorageDep,
    principal: PrincipalDep,
    _: UploadSlot,
) -> Response:
    """OpenAI's `audio.translations.create`: the file becomes a job translated into English."""
    return await _audio(request, resources, storage, principal, "translate")


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": STARTED, "owned_by": "soundscripter"}


async def _offered(resources: Resources) -> list[str]:
    pools = await run_in_threadpool(resources.workers.view)
    return [DEFAULT_MODEL_ALIAS, *pools.offered(resources.settings)]


@router.get("/models")
async def models(resources: ResourcesDep, _: PrincipalDep) -> Any:
    """The models offered (`whisper-1` is the default one), in OpenAI's list shape."""
    return {"object": "list", "data": [_model(name) for name in await _offered(resources)]}


@router.get(
    "/models/{model:path}",
    responses={404: {"description": "The model is not offered (OpenAI's error shape)"}},
)
async def model(model: str, resources: ResourcesDep, _: PrincipalDep) -> Any:
    """One offered model."""
    if model not in await _offered(resources):
        raise NotFound(f"The model {model!r} is not offered here.", code="model_not_found")
    return _model(model)


@router.api_route(
    "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def unknown(path: str, _: PrincipalDep) -> Any:
    raise NotFound(f"No endpoint /v1/{path[:100]} here.", code="unknown_url")

"""The library as a work list: pages (filters, sort orders, total), bulk actions, zip export.

Registered before `api.routes.transcriptions`, whose `/{job_id}` would otherwise take
`export` for an id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from api import job_actions, publishing
from api.access.keys import Principal
from api.deps import PrincipalDep, ResourcesDep, SessionDep, StorageDep
from api.downloads import EXPORT_LIMIT, disposition, visible_ids, zip_stream
from api.library_query import Listing, Order, Sort, page, parse_list, parse_statuses
from api.resources import Resources
from api.routes.transcriptions import json_response
from api.schemas import (
    BulkAction,
    BulkResult,
    BulkResults,
    ErrorBody,
    TranscriptionPage,
    TranscriptionPublic,
)
from core.errors import DomainError, InvalidRequest
from core.events import ErrorOut
from core.models import Transcription
from core.transcripts import FORMATS

router = APIRouter(prefix="/api/transcriptions", tags=["transcriptions"])

_FILTER = Query(max_length=500, description="Comma-separated; any of them matches")
_HEAD_TOO_LARGE = {
    "model": ErrorBody,
    "description": "The request line and headers exceed MAX_REQUEST_HEAD_KB",
}


@router.get(
    "",
    response_model=TranscriptionPage,
    responses={422: {"model": ErrorBody}, 431: _HEAD_TOO_LARGE},
)
def list_transcriptions(
    principal: PrincipalDep,
    session: SessionDep,
    resources: ResourcesDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    q: Annotated[str | None, Query(max_length=500, description="File name contains")] = None,
    text_query: Annotated[
        str | None, Query(alias="text", max_length=500, description="Transcript text search")
    ] = None,
    status: Annotated[str | None, _FILTER] = None,
    model: Annotated[str | None, _FILTER] = None,
    language: Annotated[str | None, _FILTER] = None,
    sort: Annotated[Sort, Query(description="The column the page is sorted by")] = "created_at",
    order: Annotated[
        Order | None,
        Query(description="Default: desc for created_at and duration, asc for the others"),
    ] = None,
) -> Any:
    """The library, newest first unless `sort` and `order` say otherwise; `q` matches file
    names, `text` searches what was said (words stemmed in each transcript's language, the
    last word also as a prefix while it is being typed); `status`, `model` and `language`
    filter. `total` counts the matches, up to 10,000 for the whole library and 100 for a search
    or filter (`total_exact` is false when there are more); `next_cursor` continues in the
    same order."""
    listing = Listing(
        sort=sort,
        order=order,
        limit=limit,
        cursor=cursor,
        name=q,
        text=text_query,
        statuses=parse_statuses(status),
        models=parse_list(model, "model"),
        languages=parse_list(language, "language"),
    )
    found = page(session, principal, listing)
    queued = any(j.status == "queued" for j in found.jobs)
    pools = resources.workers.view() if queued else None
    return json_response(
        TranscriptionPage(
            items=[TranscriptionPublic.of(j, pools) for j in found.jobs],
            next_cursor=found.next_cursor,
            total=found.total,
            total_exact=found.total_exact,
        )
    )


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "A zip, one file per id"},
        404: {"model": ErrorBody, "description": "An id names no transcription of yours"},
        422: {"model": ErrorBody, "description": "Bad ids or format"},
        431: _HEAD_TOO_LARGE,
    },
)
def export(
    principal: PrincipalDep,
    session: SessionDep,
    resources: ResourcesDep,
    ids: Annotated[
        str, Query(max_length=EXPORT_LIMIT * 40, description="Comma-separated, at most 500")
    ],
    format: Annotated[str, Query(pattern=f"^({'|'.join(FORMATS)})$")] = "txt",
) -> StreamingResponse:
    """A zip of the transcripts of `ids` in `format` (their latest revisions), one file per
    transcription named after its upload (`name (2).srt` for a name already used), written
    while it is sent."""
    values = parse_list(ids, "ids")
    if not values or len(values) > EXPORT_LIMIT:
        raise InvalidRequest(f"Export 1 to {EXPORT_LIMIT} transcriptions.", code="invalid_ids")
    job_ids = visible_ids(session, principal, values)
    return StreamingResponse(
        zip_stream(resources, principal, job_ids, format),
        media_type="application/zip",
        headers={"Content-Disposition": disposition("attachment", f"transcripts-{format}.zip")},
    )


def _status(resources: Resources, principal: Principal, value: str) -> str | None:
    with resources.db.session() as session:
        try:
            return job_actions.load(session, principal, value).status
        except DomainError:
            return None


@router.post(
    "/bulk",
    response_model=BulkResults,
    responses={
        400: {"model": ErrorBody, "description": "The body is not JSON"},
        422: {"model": ErrorBody, "description": "Unknown action, or not 1 to 500 ids"},
        503: {"model": ErrorBody, "description": "The database is unreachable"},
    },
)
async def bulk(
    body: BulkAction, resources: ResourcesDep, storage: StorageDep, principal: PrincipalDep
) -> Any:
    """Delete, cancel or retry each of `ids` as the single action would (the same rules, the
    same refusals, reported per id: another owner's id is `not_found`); one dispatch pass
    for all the retried jobs."""
    results: list[BulkResult] = []
    retried: list[Transcription] = []
    for value in dict.fromkeys(body.ids):
        try:
            if body.action == "delete":
                await job_actions.delete(resources, storage, principal, value)
                status = None
            elif body.action == "cancel":
                status = (await job_actions.cancel(resources, principal, value)).status
            else:
                job = await job_actions.retry(resources, principal, value, dispatch=False)
                retried.append(job)
                status = job.status
            results.append(BulkResult(id=value, ok=True, status=status, error=None))
        except DomainError as exc:
            now = await run_in_threadpool(_status, resources, principal, value)
            error = ErrorOut(code=exc.code, message=exc.message)
            results.append(BulkResult(id=value, ok=False, status=now, error=error))
    await publishing.enqueue_jobs(resources, retried, announce=False)
    return BulkResults(results=results)

"""The two SSE endpoints: one job, or many jobs multiplexed on one connection."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response
from sse_starlette import EventSourceResponse
from sse_starlette.sse import SendTimeoutError
from starlette.types import Message, Receive, Scope, Send

from api.access.keys import Principal
from api.deps import PrincipalDep, ResourcesDep
from api.live import cursor
from api.live.ledger import Ledger
from api.live.stream import LiveStream, multiplexed_id
from api.resources import Resources
from api.schemas import ErrorBody
from core.errors import InvalidRequest, NotFound

logger = logging.getLogger(__name__)

router = APIRouter(tags=["live progress"])

LastEventId = Annotated[str | None, Header(alias="Last-Event-ID", max_length=20000)]

_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"},
    204: {"description": "Nothing new, and every job has ended: do not reconnect"},
}


class LiveResponse(EventSourceResponse):
    """An SSE response that always releases its stream, however the connection ends."""

    def __init__(self, stream: LiveStream, first: str):
        options = stream.hub.options
        super().__init__(
            stream.frames(first),
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            ping=options.ping_seconds,
            sep="\n",
            send_timeout=options.send_timeout_seconds,
        )
        self.stream = stream

    async def _send_with_timeout(self, send: Send, message: Message) -> None:
        """Events go straight out; keep-alive comments keep the library's send timeout.

        A timeout on every event costs a cancel scope per client per event, about a third of
        the relay's CPU per delivery. Events do not need it: a client that stops reading also
        blocks the next ping, and that ping's timeout ends the stream.
        """
        if message.get("body", b"")[:1] == b":":
            await super()._send_with_timeout(send, message)
        else:
            await send(message)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except SendTimeoutError:
            logger.info("dropped an SSE client that stopped reading")
        finally:
            self.stream.close()


def _stream(
    resources: Resources, ledger: Ledger, principal: Principal, **options: Any
) -> LiveStream:
    return LiveStream(resources.hub, resources.catch_ups, ledger, principal, **options)


async def _snapshot(stream: LiveStream) -> str:
    try:
        return await stream.snapshot()
    except BaseException:
        stream.close()
        raise


def _respond(stream: LiveStream, first: str) -> Response:
    if not first and stream.ledger.finished:
        stream.close()
        return Response(status_code=204)
    return LiveResponse(stream, first)


@router.get(
    "/api/transcriptions/{job_id}/events",
    response_class=Response,
    responses={**_STREAM_DOC, 404: {"model": ErrorBody, "description": "No such transcription"}},
)
async def job_events(
    job_id: uuid.UUID,
    resources: ResourcesDep,
    principal: PrincipalDep,
    last_event_id: LastEventId = None,
) -> Any:
    """Live events of one transcription; the stream ends after its terminal event.

    Starts with the job's state (and the segments so far), or, with `Last-Event-ID`, with what
    happened since that event.
    """
    key = str(job_id)
    ledger = Ledger([key], {key: cursor.job_seq(last_event_id)})
    stream = _stream(resources, ledger, principal)
    first = await _snapshot(stream)
    if key in ledger.gone:
        stream.close()
        raise NotFound("No transcription with this id.")
    return _respond(stream, first)


def _parse_ids(raw: str, limit: int) -> list[str]:
    ids: dict[str, None] = {}
    for part in raw.split(","):
        if not part.strip():
            continue
        try:
            job_id = str(uuid.UUID(part.strip()))
        except ValueError:
            raise InvalidRequest(
                f"'ids' holds an invalid transcription id: {part.strip()[:80]!r}",
                code="invalid_ids",
            ) from None
        ids[job_id] = None
    if not ids:
        raise InvalidRequest("Name at least one transcription in 'ids'.", code="invalid_ids")
    if len(ids) > limit:
        raise InvalidRequest(
            f"One stream follows at most {limit} transcriptions; 'ids' names {len(ids)}.",
            code="too_many_ids",
        )
    return list(ids)


@router.get(
    "/api/events",
    response_class=Response,
    responses={**_STREAM_DOC, 422: {"model": ErrorBody, "description": "Invalid ids or since"}},
)
async def events(
    resources: ResourcesDep,
    principal: PrincipalDep,
    ids: Annotated[str, Query(max_length=40000, description="Comma-separated job ids")],
    since: Annotated[
        str | None, Query(max_length=60000, description="Comma-separated <id>:<seq> positions")
    ] = None,
    last_event_id: LastEventId = None,
) -> Any:
    """Live events of many transcriptions on one connection; ends when all of them have ended.

    Each job starts with its state, or after the position given by `since` or by the stream's
    own `Last-Event-ID`. An id that names no visible transcription gets one `cancelled` event
    with `deleted: true`.
    """
    job_ids = _parse_ids(ids, resources.live.max_jobs_per_stream)
    tag = cursor.stream_tag(job_ids)
    resume = cursor.parse_since(since, cursor.decode(last_event_id, job_ids, tag))
    ledger = Ledger(job_ids, resume.after, resume.gone)
    stream = _stream(resources, ledger, principal, event_id=multiplexed_id(tag))
    return _respond(stream, await _snapshot(stream))

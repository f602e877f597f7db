"""One error handler per kind: every error leaves the API as `{"error": {"code", "message"}}`
(under `/v1`, in OpenAI's shape: `api.openai_compat.errors`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from api.openai_compat import errors as openai_errors
from api.schemas import error_body
from api.security_headers import COMMON, policy_for
from core.errors import DomainError

logger = logging.getLogger(__name__)


async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
    headers = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(
        error_body(exc.code, exc.message), status_code=exc.status_code, headers=headers
    )


def _names_no_transcription(errors: Sequence[Any]) -> bool:
    """Whether the only fault is a transcription id in the path that is not a UUID: such an
    id names no transcription, like an unknown one (404, not a validation message)."""
    return bool(errors) and all(tuple(e.get("loc", ()))[:2] == ("path", "job_id") for e in errors)


async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    if _names_no_transcription(exc.errors()):
        return JSONResponse(
            error_body("not_found", "No transcription with this id."), status_code=404
        )
    details = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
        for e in exc.errors()
    ]
    first = details[0] if details else {"field": "", "message": "invalid request"}
    return JSONResponse(
        error_body("invalid_request", f"{first['field']}: {first['message']}", details=details),
        status_code=422,
    )


async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}
    return JSONResponse(
        error_body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def database_unavailable(_: Request, exc: sa_exc.OperationalError) -> JSONResponse:
    logger.warning("database unavailable: %s", exc.orig or exc)
    return JSONResponse(
        error_body("service_unavailable", "The database is unreachable; try again shortly."),
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def unstorable_value(_: Request, exc: sa_exc.DataError) -> JSONResponse:
    # Postgres refuses some text outright (a NUL byte, say): that is the request's fault.
    logger.warning("refused a value the database cannot take: %s", exc.orig or exc)
    return JSONResponse(
        error_body(
            "invalid_request",
            "A value in the request cannot be stored or searched (it holds a NUL byte or "
            "another character the database refuses).",
        ),
        status_code=422,
    )


async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    # Starlette answers this one outside every middleware: the security headers go here.
    headers = {name.decode(): value.decode() for name, value in COMMON}
    headers["Content-Security-Policy"] = policy_for(request.url.path)
    return JSONResponse(
        error_body("internal_error", "Something went wrong on the server."),
        status_code=500,
        headers=headers,
    )


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
    *,
    path: str = "",
) -> None:
    """An error in the usual shape (OpenAI's for a `path` under `/v1`), sent straight over
    ASGI (by middleware that answers before the app runs)."""
    shape = error_body(code, message)
    if openai_errors.applies(path):
        status, shape = openai_errors.reshape(status, shape)
    body = json.dumps(shape).encode()
    start = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


HANDLERS: list[tuple[type[Exception], Any]] = [
    (DomainError, domain_error),
    (RequestValidationError, validation_error),
    (StarletteHTTPException, http_error),
    (sa_exc.OperationalError, database_unavailable),
    (sa_exc.DataError, unstorable_value),
    (Exception, unexpected),
]
"""Each kind of error and its handler (the most specific first)."""


def _shaped_by_path(handler: Any) -> Any:
    async def handle(request: Request, exc: Exception) -> Any:
        response = await handler(request, exc)
        if openai_errors.applies(request.url.path):
            return openai_errors.reshape_response(response, exc)
        return response

    return handle


def install_error_handlers(app: FastAPI) -> None:
    for kind, handler in HANDLERS:
        app.add_exception_handler(kind, _shaped_by_path(handler))

"""The FastAPI application: routes, error handling, the sweeper and the web UI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import auth, live, publishing
from api.keys import KeyTable
from api.metrics import MetricsMiddleware, register_collectors
from api.routes import health, transcriptions
from api.schemas import error_body
from api.session_tokens import SessionSigner
from core import queue
from core.errors import DomainError
from core.logs import configure_logging
from core.settings import PROJECT_ROOT, Settings, get_settings
from core.sweeper import sweep_once

logger = logging.getLogger(__name__)

WEB_DIST = PROJECT_ROOT / "web" / "dist"


async def _sweep_forever(settings: Settings) -> None:
    while True:
        try:
            report = await run_in_threadpool(
                sweep_once, settings, publishing.event_publisher(), queue.enqueue
            )
            if report.published or report.requeued or report.failed:
                logger.info("sweeper: %s", report)
        except Exception as exc:
            logger.warning("sweeper pass failed: %s", exc)
        await asyncio.sleep(settings.sweep_interval_seconds)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        headers = {}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return JSONResponse(
            error_body(exc.code, exc.message), status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = details[0] if details else {"field": "", "message": "invalid request"}
        return JSONResponse(
            error_body("invalid_request", f"{first['field']}: {first['message']}", details=details),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}
        return JSONResponse(
            error_body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(sa_exc.OperationalError)
    async def database_unavailable(_: Request, exc: sa_exc.OperationalError) -> JSONResponse:
        logger.warning("database unavailable: %s", exc.orig or exc)
        return JSONResponse(
            error_body("service_unavailable", "The database is unreachable; try again shortly."),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "Something went wrong on the server."), status_code=500
        )


def _web_ui(app: FastAPI, dist: Path) -> None:
    """Serve the built single-page app: real files as they are, other paths get index.html."""
    root = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    async def web(path: str) -> Any:
        if path.startswith("api/") or path == "api":
            return JSONResponse(error_body("not_found", "No such endpoint."), status_code=404)
        index = root / "index.html"
        if not index.is_file():
            return JSONResponse(
                error_body("web_ui_not_built", "The web UI is not built (run `make web`)."),
                status_code=404,
            )
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            cache = (
                "public, max-age=31536000, immutable" if "/assets/" in f"/{path}" else "no-cache"
            )
            return FileResponse(candidate, headers={"Cache-Control": cache})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})


def create_app(settings: Settings | None = None, *, sweeper: bool = True) -> FastAPI:
    settings = settings or get_settings()
    hub = live.EventHub(
        settings.redis_url, settings.redis_prefix, live.LiveOptions.from_settings(settings)
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        register_collectors()
        await hub.start()
        tasks = []
        if sweeper:
            tasks.append(asyncio.create_task(_sweep_forever(settings)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await hub.stop()

    app = FastAPI(
        title="SoundScripter",
        version="1.0.0",
        description="Self-hosted distributed transcription: upload audio or video, follow "
        "progress live, search, read and download transcripts.",
        lifespan=lifespan,
    )
    app.state.event_hub = hub
    _error_handlers(app)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(
        auth.AccessControl,
        keys=KeyTable.from_settings(settings),
        signer=SessionSigner.create(settings.session_secret, settings.session_ttl_seconds),
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
        )
    app.include_router(health.router, responses=auth.UNAUTHORIZED)
    app.include_router(auth.router, responses=auth.UNAUTHORIZED)
    app.include_router(transcriptions.router, responses=auth.UNAUTHORIZED)
    app.include_router(live.router, responses=auth.UNAUTHORIZED)
    _web_ui(app, WEB_DIST)
    return app


def build() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)

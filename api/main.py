"""The FastAPI application: its parts, routes, error handling, the sweeper and the web UI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware

from api import openapi_schemas
from api.access.hosts import HostPolicy, RequestGuard
from api.access.middleware import AccessControl
from api.access.revocations import purge_expired
from api.docs_ui import serve_docs
from api.errors import install_error_handlers
from api.metrics import MetricsMiddleware
from api.resources import Resources
from api.routes import health, library, limits, live, models, session, transcriptions, webhooks
from api.routes import openai as openai_api
from api.schemas import UNAUTHORIZED
from api.security_headers import SecurityHeaders
from api.web_ui import serve_web_ui
from core.logs import configure_logging
from core.piece_queue import PieceQueue
from core.settings import Settings, get_settings
from core.sweeper import sweep_once
from core.webhook_delivery import WebhookSender

logger = logging.getLogger(__name__)


async def _sweep_forever(resources: Resources) -> None:
    settings = resources.settings
    pieces = PieceQueue(settings)  # republishes pieces of split recordings
    while True:
        try:
            report = await run_in_threadpool(
                sweep_once,
                settings,
                resources.db,
                resources.publisher,
                resources.storage,
                resources.orphans,
                pieces,
            )
            if report.acted:
                logger.info("sweeper: %s", report)
            await run_in_threadpool(purge_expired, resources.db)
        except Exception as exc:
            logger.warning("sweeper pass failed: %s", exc)
        await asyncio.sleep(settings.sweep_interval_seconds)


def create_app(settings: Settings | None = None, *, sweeper: bool = True) -> FastAPI:
    """The app for `settings`: it owns every part it uses (`app.state.resources`)."""
    resources = Resources.build(settings or get_settings())

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await resources.start()
        tasks = [asyncio.create_task(_sweep_forever(resources))] if sweeper else []
        if sweeper:
            resources.dispatcher.start()
        # Webhook outbox sender: one per API process, claims with SKIP LOCKED.
        webhook_sender = None
        if sweeper and resources.settings.webhook_secret:
            webhook_sender = WebhookSender(resources.settings, resources.db)
            tasks.append(asyncio.create_task(webhook_sender.run_forever()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if webhook_sender is not None:
                await webhook_sender.close()
            await run_in_threadpool(resources.dispatcher.stop)
            await resources.close()

    app = FastAPI(
        title="SoundScripter",
        version="1.0.0",
        description="Self-hosted distributed transcription: upload audio or video, follow "
        "progress live, search, read and download transcripts.",
        lifespan=lifespan,
        docs_url=None,  # served offline by api.docs_ui
        redoc_url=None,
    )
    app.state.resources = resources
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(AccessControl, keys=resources.keys, signer=resources.signer, db=resources.db)
    if resources.settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=resources.settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
        )
    hosts = HostPolicy.from_settings(resources.settings, keys_enabled=resources.keys.enabled)
    app.add_middleware(RequestGuard, hosts=hosts, trusted_origins=resources.settings.cors_origins)
    app.add_middleware(SecurityHeaders)
    # The library's routes before /{job_id}, which would take `export` for an id.
    for routes in (health, session, limits, library, transcriptions, live, models, webhooks):
        app.include_router(routes.router, responses=UNAUTHORIZED)
    app.include_router(openai_api.router)  # OpenAI's contract and error shape, under /v1
    serve_docs(app)
    serve_web_ui(app)
    openapi_schemas.install(app)
    return app


def build() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)

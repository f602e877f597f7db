"""Prometheus metrics of the API process, served at `/metrics`."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import lifecycle
from core.db import Database
from core.states import JobStatus

REQUESTS = Counter(
    "soundscripter_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
LATENCY = Histogram(
    "soundscripter_http_request_seconds", "HTTP request duration", ["method", "route"]
)
UPLOADS = Counter("soundscripter_uploads_total", "Uploaded files by outcome", ["outcome"])
SSE_CLIENTS = Gauge("soundscripter_sse_clients", "Connected Server-Sent Events clients")


class JobsCollector(Collector):
    """Jobs per status, read from the app's database at scrape time."""

    def __init__(self, db: Database):
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "soundscripter_jobs", "Transcription jobs by status", labels=["status"]
        )
        try:
            with self.db.session() as session:
                counts = lifecycle.count_by_status(session)
        except Exception:
            counts = {}
        for status in JobStatus:
            family.add_metric([status.value], counts.get(status.value, 0))
        yield family


def _route_of(scope: Scope) -> str:
    for route in scope["app"].router.routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "other"))
    return "unmatched"


class MetricsMiddleware:
    """Counts requests and times them up to the response start (pure ASGI: SSE-safe)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                route = _route_of(scope)
                REQUESTS.labels(scope["method"], route, str(status["code"])).inc()
                LATENCY.labels(scope["method"], route).observe(time.perf_counter() - start)
            await send(message)

        await self.app(scope, receive, send_wrapper)


def metrics_response(db: Database) -> Response:
    """The process's metrics, then the job counts of this app's database."""
    jobs = CollectorRegistry(auto_describe=True)
    jobs.register(JobsCollector(db))
    body = generate_latest(REGISTRY) + generate_latest(jobs)
    return Response(body, media_type=CONTENT_TYPE_LATEST)

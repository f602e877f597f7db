"""Liveness, readiness and metrics.

What the services answered (addresses, driver errors) and the process's metrics describe the
deployment, so only an admin key sees them (anonymous access, for a single user on loopback,
counts as admin): any other key learns from `/api/ready` only whether the API is ready or
degraded, and gets 403 from `/metrics`.
"""

from __future__ import annotations

from collections.abc import Callable

import redis
import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from kombu import Connection

from api.deps import PrincipalDep, ResourcesDep
from api.metrics import metrics_response
from api.resources import Resources
from api.schemas import error_body
from core.errors import DomainError

router = APIRouter(tags=["health"])


@router.get("/api/health")
def health() -> dict[str, str]:
    """The process is up (it does not look at the services)."""
    return {"status": "ok"}


def _check_postgres(resources: Resources) -> None:
    with resources.db.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def _check_redis(resources: Resources) -> None:
    client = redis.Redis.from_url(
        resources.settings.redis_url, socket_timeout=2, socket_connect_timeout=2
    )
    try:
        client.ping()
    finally:
        client.close()


def _check_rabbitmq(resources: Resources) -> None:
    with Connection(resources.settings.broker_url, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _check_storage(resources: Resources) -> None:
    resources.storage.check()


CHECKS = {
    "postgres": _check_postgres,
    "rabbitmq": _check_rabbitmq,
    "redis": _check_redis,
    "storage": _check_storage,
}


async def _run_check(check: Callable[[Resources], None], resources: Resources) -> str:
    try:
        await run_in_threadpool(check, resources)
    except Exception as exc:
        return f"down: {type(exc).__name__}: {exc}"[:300]
    return "ok"


@router.get("/api/ready", responses={503: {"description": "A service is down"}})
async def ready(resources: ResourcesDep, principal: PrincipalDep) -> JSONResponse:
    """Postgres, RabbitMQ, Redis and the media store reachable? For admin keys, names
    whatever is down and what each service answered; other keys get `ready` or `degraded`
    only."""
    checks = {name: await _run_check(check, resources) for name, check in CHECKS.items()}
    down = [name for name, state in checks.items() if state != "ok"]
    detail = {"checks": checks} if principal.admin else {}
    if down:
        message = (
            f"Unreachable: {', '.join(down)}."
            if principal.admin
            else "A service the API needs is unreachable."
        )
        return JSONResponse(
            {**error_body("not_ready", message), "status": "degraded", **detail},
            status_code=503,
        )
    return JSONResponse({"status": "ready", **detail})


@router.get("/metrics", include_in_schema=False)
def metrics(resources: ResourcesDep, principal: PrincipalDep) -> Response:
    if not principal.admin:
        raise DomainError("Metrics are for admin keys.", code="forbidden", status_code=403)
    return metrics_response(resources.db)

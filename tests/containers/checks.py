"""What the container tiers ask of a running stack: its database, API, logs and containers.

Every helper takes the stack (and, where several replicas exist, the container to ask), and
every failure says which container and which job it was about.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.containers import podman
from tests.containers.compose_stack import Container, Stack

T = TypeVar("T")
TERMINAL = {"completed", "failed", "cancelled"}


def wait_until(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.5) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def sql(stack: Stack, query: str) -> list[list[str]]:
    """Rows of a query, run with psql inside this run's Postgres container."""
    env = stack.services["postgres"]["environment"]
    result = podman.exec_in(
        stack.replicas("postgres")[0].name,
        ["psql", "-U", env["POSTGRES_USER"], "-d", env["POSTGRES_DB"], "-AtF", "|", "-c", query],
    )
    assert result.returncode == 0, f"psql failed on {query!r}: {result.stderr}"
    return [line.split("|") for line in result.stdout.splitlines() if line]


def api_url(stack: Stack, path: str, replica: int = 1) -> str:
    api = stack.replicas("api")[replica - 1]
    return f"http://{api.address}:{stack.container_port('api')}{path}"


def upload(
    stack: Stack, *paths: Path, replica: int = 1, fields: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    files = [("files", (p.name, p.read_bytes(), "audio/wav")) for p in paths]
    response = httpx.post(
        api_url(stack, "/api/transcriptions", replica), files=files, data=fields, timeout=120
    )
    assert response.status_code == 202, f"upload to api replica {replica}: {response.text}"
    body = response.json()
    assert body["rejected"] == [], body["rejected"]
    return list(body["items"])


def job(stack: Stack, job_id: str, replica: int = 1) -> dict[str, Any]:
    response = httpx.get(api_url(stack, f"/api/transcriptions/{job_id}", replica), timeout=30)
    assert response.status_code == 200, f"job {job_id}: {response.status_code} {response.text}"
    return dict(response.json())


def wait_finished(stack: Stack, job_id: str, timeout: float = 300) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        found = job(stack, job_id)
        return found if found["status"] in TERMINAL else None

    return wait_until(finished, timeout, f"job {job_id} to finish")


def job_row(stack: Stack, job_id: str, columns: str) -> list[str]:
    (row,) = sql(stack, f"SELECT {columns} FROM transcriptions WHERE id = '{uuid.UUID(job_id)}'")
    return row


def wait_processing_on(stack: Stack, job_id: str, timeout: float = 120) -> str:
    """The Celery node name (`…@<container>`) of the worker once the job is processing."""

    def running() -> str | None:
        status, worker = job_row(stack, job_id, "status, coalesce(worker, '')")
        return worker if status == "processing" and worker else None

    return wait_until(running, timeout, f"job {job_id} to be processing", interval=0.2)


def host_of(node: str | None) -> str:
    """The container (its hostname) a Celery node name `<worker>@<hostname>` runs in."""
    assert node, "the job records no worker"
    return node.rsplit("@", 1)[-1]


def worker_container(stack: Stack, node: str | None, services: tuple[str, ...]) -> Container:
    hostname = host_of(node)
    found = [c for service in services for c in stack.replicas(service) if c.name == hostname]
    assert found, f"{node} runs in none of the containers of {services}"
    return found[0]


def log_lines(container: str, *needles: str) -> list[str]:
    """Lines of the container's log that hold every needle."""
    return [
        line
        for line in podman.logs(container).splitlines()
        if all(needle in line for needle in needles)
    ]


def segments_once(stack: Stack, job_id: str) -> int:
    """The job's segment count, after checking each index is stored once, 0…n-1."""
    ((count, distinct, span),) = sql(
        stack,
        "SELECT count(*), count(DISTINCT index), coalesce(max(index) + 1, 0) FROM segments "
        f"WHERE transcription_id = '{uuid.UUID(job_id)}'",
    )
    assert count == distinct == span, (
        f"job {job_id}: {count} segment rows, {distinct} distinct indices, indices up to "
        f"{span}: a segment is missing or stored twice"
    )
    assert int(count) > 0, f"job {job_id} has no segments"
    return int(count)

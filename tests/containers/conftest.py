"""The containers tier: both images built with podman and run as docker-compose.yml runs them.

One stack per test session (module-scoped fixture below): the stand-in base images are made
when missing, `Dockerfile.api` and `Dockerfile.transcription-service` are built, and on a
private podman network the infrastructure, the one-shot migrate, the api and two
transcription-service replicas are started in Compose's dependency order. Everything the run
created (containers, volumes with the database and the queue, the network) is removed at the
end, also when a check or the start-up fails. Images are kept: they are the build cache.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.containers import podman
from tests.containers.base_images import ensure_base_images
from tests.containers.compose_stack import Stack, compose_config

WORKER_REPLICAS = 2
IMAGE_TAG = "containers-test"


def _remove_leftovers() -> None:
    """Remove what runs of the tier killed before their clean-up left behind."""
    for run in podman.labelled_runs():
        pid = run.rsplit("-", 1)[-1]
        if pid.isdigit() and Path(f"/proc/{pid}").exists():
            continue  # that run is still going
        podman.remove_labelled(run)


@pytest.fixture(scope="session")
def stack_settings() -> dict[str, str]:
    """The `.env` of the stack: fresh secrets and the choices of this tier."""
    return {
        "POSTGRES_PASSWORD": secrets.token_hex(12),
        "RABBITMQ_DEFAULT_USER": "soundscripter",
        "RABBITMQ_DEFAULT_PASS": secrets.token_hex(12),
        "SUPERVISOR_USER": "operator",
        "SUPERVISOR_PASSWORD": secrets.token_hex(12),
        # The API listens on all addresses of its container: only this run can reach them.
        "ALLOW_ANONYMOUS": "true",
        "SOUNDSCRIPTER_IMAGE_TAG": IMAGE_TAG,
        # Two replicas on two cores: one model instance and one thread each.
        "WORKER_CONCURRENCY": "1",
        "WHISPER_CPU_THREADS": "1",
    }


@pytest.fixture(scope="session")
def stack(
    stack_settings: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    run_id = f"ss-test-{secrets.token_hex(3)}-{os.getpid()}"
    config = compose_config(tmp_path_factory.mktemp("compose"), stack_settings)
    stack = Stack(run_id, config)
    _remove_leftovers()
    started = time.monotonic()
    ensure_base_images()
    bases = time.monotonic()
    timings = stack.build_images()
    built = time.monotonic()
    print(
        f"\ncontainers tier: base images {bases - started:.0f} s, builds {built - bases:.0f} s "
        + ", ".join(f"({image} {seconds:.0f} s)" for image, seconds in timings.items()),
        flush=True,
    )
    try:
        stack.create_network_and_volumes()
        stack.up({"transcription-service": WORKER_REPLICAS}, timeout=300)
        for name in stack.containers:
            if stack.state(name).get("Running"):
                stack.wait_healthy(name, timeout=300)
        print(f"containers tier: stack up in {time.monotonic() - built:.0f} s", flush=True)
        yield stack
    except BaseException:
        print(stack.all_logs())
        raise
    finally:
        podman.remove_labelled(run_id)

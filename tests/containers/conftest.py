"""The containers and cluster tiers: the images built with podman, run as Compose runs them.

The stand-in base images are made when missing and every image a service builds is built,
once per test session (`images`); both tiers use the same images. Each tier then starts a
stack of its own, on a private podman network, in Compose's dependency order (module-scoped
fixtures, so one tier's stack is gone before the other's starts):

- `stack` (containers tier): the infrastructure, the one-shot migrate, the api and two
  replicas of the transcription service;
- `cluster` (cluster tier, tests/containers/test_cluster.py): the same with two api replicas,
  two worker hosts of the first model pool, a short job lease (`CLUSTER_SETTINGS`), and the
  second pool's service (the `multilingual` profile, its image the first pool's with the
  model under a second name) defined but not started (its test starts it).

Everything a stack created (containers, volumes with the database, the queue and the object
store, the network) is removed at its end, also when a check or the start-up fails. Images
are kept: they are the build cache.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.containers import podman
from tests.containers.base_images import ensure_base_images
from tests.containers.cluster_parts import SECOND_MODEL, build_second_pool_image
from tests.containers.compose_file import stack_secrets
from tests.containers.compose_stack import Stack, compose_config, worker_services

WORKER_REPLICAS = 2
API_REPLICAS = 2
IMAGE_TAG = "containers-test"
# The cluster's own choices: a lease short enough for a cut-off worker to lose its job within
# the test, and a sweeper that looks every two seconds (in each api replica).
# Its second model pool is the Compose file's `multilingual` profile, serving SECOND_MODEL
# (which uploads may ask for before any worker of it runs).
CLUSTER_SETTINGS = {
    "JOB_LEASE_SECONDS": "15",
    "SWEEP_INTERVAL_SECONDS": "2",
    "PUBLISH_RETRY_AFTER_SECONDS": "3",
    "MULTILINGUAL_MODEL": SECOND_MODEL,
    "ALLOWED_MODELS": f"/models/{SECOND_MODEL}",
}
CLUSTER_PROFILES = ("multilingual",)


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
        **stack_secrets(IMAGE_TAG),
        # Two replicas on two cores: one model instance and one thread each.
        "WORKER_CONCURRENCY": "1",
        "WHISPER_CPU_THREADS": "1",
    }


@pytest.fixture(scope="session")
def images(stack_settings: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> None:
    """The stand-in bases and every image docker-compose.yml builds, once per session."""
    config = compose_config(tmp_path_factory.mktemp("compose-build"), stack_settings)
    _remove_leftovers()
    started = time.monotonic()
    ensure_base_images()
    bases = time.monotonic()
    timings = Stack("build", config).build_images()
    print(
        f"\nimages: base images {bases - started:.0f} s, builds {time.monotonic() - bases:.0f} s "
        + ", ".join(f"({image} {seconds:.0f} s)" for image, seconds in timings.items()),
        flush=True,
    )


@contextlib.contextmanager
def running_stack(tier: str, config: dict[str, Any], scale: dict[str, int]) -> Iterator[Stack]:
    """A stack started from `config` with `scale` replicas per service, removed at the end."""
    stack = Stack(f"ss-test-{secrets.token_hex(3)}-{os.getpid()}", config)
    started = time.monotonic()
    try:
        stack.create_network_and_volumes()
        stack.up(scale, timeout=300)
        for name in stack.containers:
            if stack.state(name).get("Running"):
                stack.wait_healthy(name, timeout=300)
        print(f"\n{tier} tier: stack up in {time.monotonic() - started:.0f} s", flush=True)
        yield stack
    except BaseException:
        print(stack.all_logs())
        raise
    finally:
        podman.remove_labelled(stack.run_id)


@pytest.fixture(scope="module")
def stack(
    images: None, stack_settings: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    config = compose_config(tmp_path_factory.mktemp("compose"), stack_settings)
    with running_stack("containers", config, {"transcription-service": WORKER_REPLICAS}) as up:
        yield up


@pytest.fixture(scope="module")
def cluster(
    images: None, stack_settings: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    settings = {**stack_settings, **CLUSTER_SETTINGS, "SESSION_SECRET": secrets.token_hex(24)}
    config = compose_config(tmp_path_factory.mktemp("compose-cluster"), settings, CLUSTER_PROFILES)
    pools = worker_services(config)
    if len(pools) > 1:
        build_second_pool_image(config, tmp_path_factory.mktemp("second-pool"))
    scale = {"api": API_REPLICAS, **{pool: 0 for pool in pools[1:]}, pools[0]: WORKER_REPLICAS}
    with running_stack("cluster", config, scale) as up:
        yield up

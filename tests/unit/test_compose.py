"""Static checks of docker-compose.yml: services, start order, volumes, ports, stop grace.

Credentials and secrets: test_compose_secrets.py. What the containers tier builds and runs
from this file: tests/containers/.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.deploy_files import (
    COMPOSE_FILE,
    SCALED_SERVICES,
    SUPERVISOR_DIR,
    UPLOAD_SERVICES,
    duration_seconds,
    environment,
    host_port,
    load,
    long_running,
    setting,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(COMPOSE_FILE)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def test_expected_services_exist(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) >= {
        "postgres",
        "redis",
        "rabbitmq",
        "migrate",
        "api",
        "transcription-service",
    }


def test_every_long_running_service_has_a_healthcheck(
    services: dict[str, dict[str, Any]],
) -> None:
    running = long_running(services)
    assert "migrate" not in running
    for name, service in running.items():
        check = service.get("healthcheck") or {}
        assert check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"


def test_every_long_running_service_restarts(services: dict[str, dict[str, Any]]) -> None:
    for name, service in long_running(services).items():
        assert service["restart"] in {"always", "unless-stopped", "on-failure"}, name


def test_app_services_wait_for_migration_and_healthy_dependencies(
    services: dict[str, dict[str, Any]],
) -> None:
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "transcription-service"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        for infra in ("postgres", "redis", "rabbitmq"):
            assert depends[infra]["condition"] == "service_healthy", (name, infra)


def test_migrate_uses_the_api_image(services: dict[str, dict[str, Any]]) -> None:
    assert services["migrate"]["image"] == services["api"]["image"]
    assert services["migrate"]["command"] == ["python", "-m", "core.migrate"]


def test_api_and_workers_share_the_uploads_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    mounts: dict[str, set[str]] = {}
    for name in UPLOAD_SERVICES:
        service = services[name]
        storage_dir = environment(service)["STORAGE_DIR"]
        sources = set()
        for volume in service.get("volumes", []):
            if isinstance(volume, dict):
                source, target = volume.get("source"), volume.get("target")
            else:
                source, target = str(volume).split(":")[:2]
            if target == storage_dir:
                sources.add(source)
        assert sources, f"{name} mounts nothing at STORAGE_DIR={storage_dir}"
        mounts[name] = sources
    shared = set.intersection(*mounts.values())
    assert shared, f"no volume shared at STORAGE_DIR: {mounts}"
    assert shared <= set(compose["volumes"]), "the uploads volume must be a named volume"


def test_named_volumes_for_state(compose: dict[str, Any]) -> None:
    assert set(compose["volumes"]) >= {"postgres-data", "rabbitmq-data", "uploads", "models"}


def test_scaled_services_publish_no_fixed_host_port(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in SCALED_SERVICES:
        service = services[name]
        assert "container_name" not in service, f"{name} cannot be scaled with a container_name"
        for entry in service.get("ports", []):
            assert host_port(entry) == "", f"{name} publishes a fixed host port: {entry!r}"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("9001", ""),
        ("127.0.0.1::9001", ""),
        ("8000:8000", "8000"),
        ("${A:-0.0.0.0}:${B:-8000}:8000", "<optional>"),
        ("${A:-0.0.0.0}::9001", ""),
        ("127.0.0.1:9001:9001/tcp", "9001"),
        ({"target": 9001}, ""),
        ({"target": 9001, "published": 9001}, "9001"),
    ],
)
def test_host_port_parsing(entry: Any, expected: str) -> None:
    assert host_port(entry) == expected


def test_worker_stop_grace_exceeds_supervisor_stop_wait(
    services: dict[str, dict[str, Any]],
) -> None:
    grace = duration_seconds(services["transcription-service"]["stop_grace_period"])
    worker_conf = (SUPERVISOR_DIR / "programs" / "worker.conf").read_text(encoding="utf-8")
    stop_wait = int(setting(r"^stopwaitsecs=(\d+)", worker_conf))
    assert stop_wait >= 300, "give a running job time to finish on SIGTERM"
    assert grace > stop_wait, "Docker would kill the container before Supervisor's stop wait"

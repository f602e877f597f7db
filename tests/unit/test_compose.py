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
        "seaweedfs",
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
        for infra in ("postgres", "redis", "rabbitmq", "seaweedfs"):
            assert depends[infra]["condition"] == "service_healthy", (name, infra)


def test_migrate_uses_the_api_image(services: dict[str, dict[str, Any]]) -> None:
    assert services["migrate"]["image"] == services["api"]["image"]
    assert services["migrate"]["command"] == ["python", "-m", "core.migrate"]


def _volume_sources(service: dict[str, Any]) -> set[str]:
    sources = set()
    for volume in service.get("volumes", []):
        sources.add(volume.get("source") if isinstance(volume, dict) else str(volume).split(":")[0])
    return sources


def test_api_and_workers_keep_media_in_the_object_store_and_share_no_volume(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in UPLOAD_SERVICES:
        env = environment(services[name])
        assert env["STORAGE_BACKEND"] == "s3", name
        assert env["S3_ENDPOINT_URL"] == "http://seaweedfs:8333", name
        storage_dir = env["STORAGE_DIR"]
        targets = {
            (v.get("target") if isinstance(v, dict) else str(v).split(":")[1])
            for v in services[name].get("volumes", [])
        }
        assert not any(t and t.startswith(storage_dir) for t in targets), (name, targets)
    shared = set.intersection(*(_volume_sources(services[n]) for n in UPLOAD_SERVICES))
    assert not shared, f"the API and the workers share {shared}: worker hosts could not scale out"


def test_the_object_store_keeps_its_data_in_a_named_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    store = services["seaweedfs"]
    assert store["image"].startswith("chrislusf/seaweedfs:")
    assert store["image"].rsplit(":", 1)[1][0].isdigit(), "pin a version tag"
    assert "seaweedfs-data" in _volume_sources(store)
    assert "seaweedfs-data" in compose["volumes"]
    # Its admin identity is the one the app services sign with.
    env = environment(store)
    app = environment(services["api"])
    assert env["AWS_ACCESS_KEY_ID"] == app["S3_ACCESS_KEY_ID"]
    assert env["AWS_SECRET_ACCESS_KEY"] == app["S3_SECRET_ACCESS_KEY"]
    assert env["S3_BUCKET"] == app["S3_BUCKET"]


def test_named_volumes_for_state(compose: dict[str, Any]) -> None:
    assert set(compose["volumes"]) >= {"postgres-data", "rabbitmq-data", "seaweedfs-data", "models"}


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

"""Static checks of the worker pools in docker-compose.yml: two pools that scale on their own,
each serving its own model, all on quorum queues, as Compose itself reads the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.deploy_files import (
    COMPOSE_FILE,
    SUPERVISOR_DIR,
    TEST_SECRETS,
    compose_command,
    duration_seconds,
    environment,
    host_port,
    load,
    setting,
)

pytestmark = pytest.mark.unit

POOLS = ("transcription-service", "transcription-service-multilingual")
WORKER_DOCKERFILE = "Dockerfile.transcription-service"


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return load(COMPOSE_FILE)["services"]


def test_two_pools_are_two_services_of_the_worker_image(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in POOLS:
        assert services[name]["build"]["dockerfile"] == WORKER_DOCKERFILE, name
    default, multilingual = (services[name] for name in POOLS)
    assert default["image"] != multilingual["image"]  # each pool's image bakes its model
    assert default["build"]["args"]["WHISPER_MODEL"] == "${WHISPER_MODEL:-tiny.en}"
    assert multilingual["build"]["args"]["WHISPER_MODEL"] == "${MULTILINGUAL_MODEL:-base}"


def test_each_pool_serves_the_model_its_image_bakes(services: dict[str, dict[str, Any]]) -> None:
    default, multilingual = (environment(services[name]) for name in POOLS)
    assert default["WORKER_MODELS"] == "/models/${WHISPER_MODEL:-tiny.en}"
    assert multilingual["WORKER_MODELS"] == "/models/${MULTILINGUAL_MODEL:-base}"
    # The API's default model is the default pool's model, by the same name.
    assert environment(services["api"])["WHISPER_MODEL"] == default["WORKER_MODELS"]


def test_api_and_every_pool_use_quorum_queues(services: dict[str, dict[str, Any]]) -> None:
    for name in ("api", "migrate", *POOLS):
        assert environment(services[name])["QUEUE_TYPE"] == "quorum", name


def test_pools_scale_independently_and_keep_their_stop_grace(
    services: dict[str, dict[str, Any]],
) -> None:
    worker_conf = (SUPERVISOR_DIR / "programs" / "worker.conf").read_text(encoding="utf-8")
    stop_wait = int(setting(r"^stopwaitsecs\s*=\s*(\d+)", worker_conf))
    for name in POOLS:
        service = services[name]
        assert all(host_port(entry) == "" for entry in service.get("ports", [])), name
        assert "container_name" not in service, name
        assert duration_seconds(service["stop_grace_period"]) > stop_wait, name
        assert service["healthcheck"]["test"], name
        for infra in ("postgres", "redis", "rabbitmq"):
            assert service["depends_on"][infra]["condition"] == "service_healthy", (name, infra)


def test_the_multilingual_pool_is_behind_a_profile(
    services: dict[str, dict[str, Any]],
) -> None:
    assert "profiles" not in services["transcription-service"]
    assert services["transcription-service-multilingual"]["profiles"] == ["multilingual"]


def test_compose_resolves_both_pools(tmp_path: Path) -> None:
    """`docker-compose config` merges the second pool from the first: same settings, its own
    model, its own image."""
    import subprocess

    import yaml

    command = compose_command()
    if command is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed")
    (tmp_path / "docker-compose.yml").write_text(COMPOSE_FILE.read_text(encoding="utf-8"))
    (tmp_path / "deploy").symlink_to(COMPOSE_FILE.parent / "deploy", target_is_directory=True)
    env_file = {**TEST_SECRETS, "S3_ACCESS_KEY_ID": "key", "S3_SECRET_ACCESS_KEY": "secret0"}
    env_file["MULTILINGUAL_MODEL"] = "small"
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in env_file.items()))
    result = subprocess.run(
        [*command, "--project-directory", str(tmp_path), "config"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)["services"]
    default, multilingual = (resolved[name] for name in POOLS)
    assert multilingual["environment"]["WORKER_MODELS"] == "/models/small"
    assert multilingual["build"]["args"]["WHISPER_MODEL"] == "small"
    assert default["environment"]["WORKER_MODELS"] == "/models/tiny.en"
    shared = {k: v for k, v in default["environment"].items() if k != "WORKER_MODELS"}
    assert {k: multilingual["environment"][k] for k in shared} == shared
    assert multilingual["environment"]["QUEUE_TYPE"] == "quorum"

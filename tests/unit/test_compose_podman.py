"""How the containers tier turns `docker-compose config` into `podman run` arguments.

Pure translation, no podman needed: the containers tier relies on it to run each service
with exactly what docker-compose.yml gives it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.containers.base_images import (
    DOCKERFILES,
    INFRA_IMAGE,
    dockerfile_bases,
    mirror_in,
    qualified,
    required_bases,
)
from tests.containers.compose_stack import Stack, compose_config, seconds
from tests.containers.podman import LABEL, _label_values
from tests.support.deploy_files import TEST_SECRETS, compose_command

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    if compose_command() is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed")
    settings = {**TEST_SECRETS, "ALLOW_ANONYMOUS": "true", "WORKER_CONCURRENCY": "1"}
    config = compose_config(tmp_path_factory.mktemp("compose"), settings)
    stack = Stack("ss-test-unit", config)
    stack.hosts = {"postgres": "10.0.0.2", "rabbitmq": "10.0.0.3"}
    return stack


def options(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args) if arg == flag]


def test_worker_runs_with_composes_settings(stack: Stack) -> None:
    args = stack.run_args("transcription-service", 2)
    service: dict[str, Any] = stack.services["transcription-service"]
    assert options(args, "--name") == ["ss-test-unit-transcription-service-2"]
    assert options(args, "--hostname") == ["ss-test-unit-transcription-service-2"]
    assert options(args, "--stop-timeout") == ["630"]
    assert options(args, "--cap-drop") == ["ALL"]
    assert options(args, "--security-opt") == ["no-new-privileges:true"]
    assert options(args, "--restart") == ["unless-stopped"]
    assert options(args, "--label") == [f"{LABEL}=ss-test-unit"]
    assert options(args, "--add-host") == ["postgres:10.0.0.2", "rabbitmq:10.0.0.3"]
    env = dict(item.split("=", 1) for item in options(args, "--env"))
    assert env["SUPERVISOR_PASSWORD"] == TEST_SECRETS["SUPERVISOR_PASSWORD"]
    assert env["WORKER_CONCURRENCY"] == "1"
    assert env["DATABASE_URL"].endswith("@postgres:5432/soundscripter")
    assert env["STORAGE_BACKEND"] == "s3"
    assert options(args, "--volume") == [
        "ss-test-unit-models:/var/cache/soundscripter/huggingface:rw",
    ]
    # The CMD-form check is passed as an argv list, each argument intact.
    (health,) = options(args, "--health-cmd")
    assert json.loads(health) == service["healthcheck"]["test"][1:]
    assert options(args, "--health-start-period") == ["60s"]
    assert args[-1] == service["image"], "the image's own CMD runs"
    assert "--publish" not in args
    assert "-p" not in args


def test_api_runs_under_an_init(stack: Stack) -> None:
    args = stack.run_args("api", 1)
    assert "--init" in args
    assert options(args, "--stop-timeout") == ["30"]
    (health,) = options(args, "--health-cmd")
    assert json.loads(health)[:2] == ["python", "-c"]


def test_migrate_runs_its_command_once(stack: Stack) -> None:
    args = stack.run_args("migrate", 1)
    assert args[-4:] == [stack.services["migrate"]["image"], "python", "-m", "core.migrate"]
    assert options(args, "--restart") == ["no"]


def test_infrastructure_runs_from_the_debian_stand_in(stack: Stack) -> None:
    redis = stack.run_args("redis", 1)
    assert redis[-6:] == [INFRA_IMAGE, "redis-server", "--save", "", "--appendonly", "no"]
    rabbitmq = stack.run_args("rabbitmq", 1)
    assert options(rabbitmq, "--hostname") == ["rabbitmq"]
    assert rabbitmq[-2:] == [INFRA_IMAGE, "rabbitmq-server"]
    mounts = options(rabbitmq, "--volume")
    assert any(m.endswith(":/etc/rabbitmq/enabled_plugins:ro") for m in mounts), mounts
    for mount in mounts[1:]:
        assert Path(mount.split(":")[0]).is_file(), mount
    assert stack.run_args("postgres", 1)[-2:] == [INFRA_IMAGE, "postgres"]


def test_container_ports_come_from_compose(stack: Stack) -> None:
    assert stack.container_port("api") == 8000
    assert stack.container_port("transcription-service") == 9001
    assert stack.container_port("rabbitmq") == 15672


@pytest.mark.parametrize(
    ("value", "expected"), [("630s", 630), ("1m", 60), ("1m30s", 90), ("500ms", 0.5), (10, 10)]
)
def test_compose_durations(value: Any, expected: float) -> None:
    assert seconds(value) == expected


def test_stand_ins_take_the_tags_the_dockerfiles_name() -> None:
    bases = {arg: image for path in DOCKERFILES for arg, image in dockerfile_bases(path).items()}
    assert set(bases) == {"PYTHON_IMAGE", "NODE_IMAGE"}
    assert required_bases() == {"python": bases["PYTHON_IMAGE"], "node": bases["NODE_IMAGE"]}
    assert qualified("debian:bookworm-slim") == "docker.io/library/debian:bookworm-slim"
    assert qualified("soundscripter/api:x") == "docker.io/soundscripter/api:x"
    assert qualified("localhost/a/b:c") == "localhost/a/b:c"


def test_debian_mirror_is_read_from_apt_sources() -> None:
    deb822 = (
        "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\n\nTypes: deb\nURIs: http://mirror.invalid/security\n"
        "Suites: bookworm-security\n"
    )
    assert mirror_in(deb822) == "http://mirror.invalid/debian"
    assert mirror_in("deb [arch=amd64] http://m.invalid/d bookworm main\n") == "http://m.invalid/d"
    assert mirror_in("Types: deb\nURIs: http://x.invalid\nSuites: trixie\n") is None


def test_run_labels_are_parsed() -> None:
    line = f"map[{LABEL}:ss-test-ab12-77 other:x]"
    assert _label_values(line) == ["ss-test-ab12-77"]

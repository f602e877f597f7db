"""docker-compose.yml and its GPU override: no credential has a default, none is written in,
and Compose itself (docker-compose config) accepts the files and refuses to run without a
secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.deploy_files import (
    COMPOSE_FILE,
    CREDENTIAL_NAME,
    GPU_OVERRIDE,
    REQUIRED,
    REQUIRED_SECRETS,
    SECRET_NAME,
    TEST_SECRETS,
    URL_CREDENTIALS,
    compose_command,
    compose_project,
    compose_variables,
    environment,
    load,
    mask_references,
    run_compose,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return load(COMPOSE_FILE)["services"]


@pytest.mark.parametrize("path", [COMPOSE_FILE, GPU_OVERRIDE], ids=lambda p: p.name)
def test_no_credential_has_a_default(path: Path) -> None:
    for name, op in compose_variables(path.read_text(encoding="utf-8")):
        if CREDENTIAL_NAME.search(name):
            assert op in {":?", "?"}, f"${{{name}}} must be required (${{{name}:?…}}), not {op!r}"


def test_required_secrets_are_required_in_compose() -> None:
    used = {name: op for name, op in compose_variables(COMPOSE_FILE.read_text(encoding="utf-8"))}
    for name in REQUIRED_SECRETS:
        assert used.get(name) == ":?", f"{name} is not used as ${{{name}:?…}}"


def test_no_literal_secret_in_service_environments(services: dict[str, dict[str, Any]]) -> None:
    for service_name, service in services.items():
        for key, value in environment(service).items():
            value = mask_references(value)
            if SECRET_NAME.search(key):
                assert value == REQUIRED, (
                    f"{service_name}: {key} must come from a required variable"
                )
            for match in URL_CREDENTIALS.finditer(value):
                assert match.group("password") == REQUIRED, (
                    f"{service_name}: {key} embeds a password that is not a required variable"
                )


@pytest.mark.parametrize(
    "files",
    [("docker-compose.yml",), ("docker-compose.yml", "deploy/docker-compose.gpu.yml")],
    ids=["base", "gpu"],
)
def test_compose_config_validates(files: tuple[str, ...], tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed")
    result = run_compose(command, compose_project(tmp_path, TEST_SECRETS), *files)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(REQUIRED_SECRETS))
def test_compose_refuses_to_run_without_a_secret(missing: str, tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed")
    secrets = {key: value for key, value in TEST_SECRETS.items() if key != missing}
    result = run_compose(command, compose_project(tmp_path, secrets), "docker-compose.yml")
    assert result.returncode != 0
    assert missing in result.stderr

"""Static checks of deploy/docker-compose.worker.yml, the Compose file of a worker host: the
transcription service alone, sharing nothing with the main host but the network, with the
main stack's worker settings and the variables docs/operations.md tells an operator to set."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.deploy_files import (
    COMPOSE_FILE,
    ROOT,
    compose_variables,
    environment,
    load,
)

pytestmark = pytest.mark.unit

WORKER_FILE = ROOT / "deploy" / "docker-compose.worker.yml"
OPERATIONS = ROOT / "docs" / "operations.md"
# The main stack's worker settings that only make sense inside that stack.
MAIN_STACK_ONLY = {"STORAGE_DIR"}


@pytest.fixture(scope="module")
def worker() -> dict[str, Any]:
    services = load(WORKER_FILE)["services"]
    assert list(services) == ["transcription-service"], list(services)
    return dict(services["transcription-service"])


@pytest.fixture(scope="module")
def main_worker() -> dict[str, Any]:
    return dict(load(COMPOSE_FILE)["services"]["transcription-service"])


def documented_env() -> set[str]:
    """The variables of the `.env on the worker host` block in "Adding a worker host"."""
    text = OPERATIONS.read_text(encoding="utf-8")
    section = text.split("## Adding a worker host", 1)[1].split("\n## ", 1)[0]
    block = section.split("# .env on the worker host", 1)[1].split("```", 1)[0]
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", block, re.MULTILINE))


def test_it_runs_the_main_stacks_worker_image_and_shares_no_volume(
    worker: dict[str, Any], main_worker: dict[str, Any]
) -> None:
    assert worker["image"] == main_worker["image"]
    assert worker["build"]["dockerfile"] == main_worker["build"]["dockerfile"]
    assert worker["build"]["context"] == ".."  # the file lives in deploy/
    assert worker["build"]["args"] == main_worker["build"]["args"]
    for key in ("volumes", "env_file", "depends_on"):
        assert key not in worker, f"a worker host's service has {key}: {worker[key]}"


def test_it_keeps_the_main_stacks_health_check_hardening_and_stop_grace(
    worker: dict[str, Any], main_worker: dict[str, Any]
) -> None:
    for key in ("healthcheck", "stop_grace_period", "cap_drop", "security_opt", "restart"):
        assert worker.get(key) == main_worker.get(key), key


def test_it_sets_every_worker_setting_of_the_main_stack(
    worker: dict[str, Any], main_worker: dict[str, Any]
) -> None:
    env, main_env = environment(worker), environment(main_worker)
    missing = set(main_env) - set(env) - MAIN_STACK_ONLY
    assert not missing, f"the worker host's file does not set {sorted(missing)}"
    assert env["STORAGE_BACKEND"] == "s3"
    assert env["QUEUE_TYPE"] == "${QUEUE_TYPE:-quorum}"
    assert main_env["QUEUE_TYPE"] == "quorum"


def test_the_docs_set_exactly_what_the_file_requires() -> None:
    text = WORKER_FILE.read_text(encoding="utf-8")
    variables = compose_variables(text)
    required = {name for name, op in variables if op in {":?", "?"}}
    documented = documented_env()
    assert required <= documented, f"the docs' .env lacks {sorted(required - documented)}"
    unknown = documented - {name for name, _ in variables}
    assert not unknown, f"the docs' .env sets {sorted(unknown)}, which the file never reads"

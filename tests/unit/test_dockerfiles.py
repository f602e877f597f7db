"""The two images' Dockerfiles, checked without building them: Dockerfile.api (the API, also
the one-shot migrate) and Dockerfile.transcription-service (the workers under Supervisor).

The containers tier (tests/containers/) builds and runs them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.deploy_files import ROOT, dockerfile_copies, dockerignore_admits, hadolint

pytestmark = pytest.mark.unit

API = ROOT / "Dockerfile.api"
WORKER = ROOT / "Dockerfile.transcription-service"
SUPERVISOR_CONF = "deploy/supervisor/transcription-service.conf"


@pytest.mark.parametrize("dockerfile", [API, WORKER], ids=lambda path: path.name)
def test_hadolint_passes(dockerfile: Path) -> None:
    result = hadolint(dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", [API, WORKER], ids=lambda path: path.name)
def test_every_copied_path_exists_and_is_in_the_build_context(dockerfile: Path) -> None:
    for source in dockerfile_copies(dockerfile):
        assert (ROOT / source).exists(), f"COPY {source}: no such path"
        assert dockerignore_admits(source), f"COPY {source}: .dockerignore leaves it out"


@pytest.mark.parametrize("dockerfile", [API, WORKER], ids=lambda path: path.name)
def test_runs_unprivileged_with_a_healthcheck(dockerfile: Path) -> None:
    text = dockerfile.read_text(encoding="utf-8")
    assert re.search(r"^USER 10001:10001$", text, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n?.*CMD \[", text, re.MULTILINE)


def test_the_api_image_installs_only_the_api_requirements() -> None:
    copies = dockerfile_copies(API)
    assert "requirements-api.txt" in copies
    assert "requirements.txt" not in copies, "the API image needs no worker packages"
    assert "worker/" not in copies


def test_the_worker_image_bakes_the_model_at_build_time() -> None:
    text = WORKER.read_text(encoding="utf-8")
    assert re.search(r"^RUN .*bake_model\.py \"\$WHISPER_MODEL\" /models$", text, re.MULTILINE)
    assert "WHISPER_MODEL=/models/${WHISPER_MODEL}" in text


def test_the_worker_image_runs_supervisor_and_checks_it() -> None:
    text = WORKER.read_text(encoding="utf-8")
    assert f'CMD ["supervisorctl", "-c", "{SUPERVISOR_CONF}"' in text
    assert f'CMD ["supervisord", "-n", "-c", "{SUPERVISOR_CONF}"]' in text

"""Dockerfile.api: the API image (also the one-shot migrate), checked without building it.

The containers tier (tests/containers/) builds and runs it."""

from __future__ import annotations

import re

import pytest

from tests.support.deploy_files import ROOT, dockerfile_copies, dockerignore_admits, hadolint

pytestmark = pytest.mark.unit

DOCKERFILE = ROOT / "Dockerfile.api"


def test_hadolint_passes() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_copied_path_exists_and_is_in_the_build_context() -> None:
    for source in dockerfile_copies(DOCKERFILE):
        assert (ROOT / source).exists(), f"COPY {source}: no such path"
        assert dockerignore_admits(source), f"COPY {source}: .dockerignore leaves it out"


def test_installs_only_the_api_requirements() -> None:
    copies = dockerfile_copies(DOCKERFILE)
    assert "requirements-api.txt" in copies
    assert "requirements.txt" not in copies, "the API image needs no worker packages"
    assert "worker/" not in copies


def test_runs_unprivileged_with_a_healthcheck() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^USER 10001:10001$", text, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n?.*CMD \[", text, re.MULTILINE)

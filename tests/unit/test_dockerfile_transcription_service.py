"""Dockerfile.transcription-service: the worker image, checked without building it.

The containers tier (tests/containers/) builds and runs it."""

from __future__ import annotations

import re

import pytest

from tests.support.deploy_files import ROOT, dockerfile_copies, dockerignore_admits, hadolint

pytestmark = pytest.mark.unit

DOCKERFILE = ROOT / "Dockerfile.transcription-service"


def test_hadolint_passes() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_copied_path_exists_and_is_in_the_build_context() -> None:
    for source in dockerfile_copies(DOCKERFILE):
        assert (ROOT / source).exists(), f"COPY {source}: no such path"
        assert dockerignore_admits(source), f"COPY {source}: .dockerignore leaves it out"


def test_bakes_the_model_at_build_time() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^RUN .*bake_model\.py \"\$WHISPER_MODEL\" /models$", text, re.MULTILINE)
    assert "WHISPER_MODEL=/models/${WHISPER_MODEL}" in text


def test_runs_supervisor_unprivileged_with_a_healthcheck() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^USER 10001:10001$", text, re.MULTILINE)
    assert 'CMD ["supervisorctl", "-c", "deploy/supervisor/transcription-service.conf"' in text
    assert 'CMD ["supervisord", "-n", "-c", "deploy/supervisor/transcription-service.conf"]' in text

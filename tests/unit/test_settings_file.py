"""Settings come from the environment and one settings file: the project's `.env`, or the file
`SOUNDSCRIPTER_ENV_FILE` names. The test suite names an empty one (tests/conftest.py), so a
`.env` that `make run` wrote in the checkout changes nothing the tests see."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import settings

pytestmark = pytest.mark.unit


def python(code: str, env_file: str | None) -> str:
    """What `code` prints in a new process with SOUNDSCRIPTER_ENV_FILE set to `env_file` (None:
    unset)."""
    env = {k: v for k, v in os.environ.items() if k != "SOUNDSCRIPTER_ENV_FILE"}
    if env_file is not None:
        env["SOUNDSCRIPTER_ENV_FILE"] = env_file
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_the_suite_reads_no_settings_file() -> None:
    assert Path(os.devnull) == settings.ENV_FILE


def test_the_named_file_is_read(tmp_path: Path) -> None:
    named = tmp_path / "other.env"
    named.write_text("ALLOWED_MODELS=base\n", encoding="utf-8")
    read = "from core.settings import Settings; print(Settings().allowed_models)"
    assert python(read, str(named)) == "['base']"
    assert python(read, os.devnull) == "[]"


def test_without_the_variable_it_is_the_projects_env() -> None:
    printed = python("from core.settings import ENV_FILE; print(ENV_FILE)", None)
    assert Path(printed) == settings.PROJECT_ROOT / ".env"

"""WORKER_CACHE_DIR: empty (as `.env.example`, and so the Compose stacks' `.env`, has it) means
the default folder under STORAGE_DIR, never the project folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_cache_folder_is_the_default(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_CACHE_DIR", value)
    assert Settings(_env_file=None).worker_cache_dir is None


def test_a_relative_cache_folder_is_the_projects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_CACHE_DIR", "var/cache")
    assert Settings(_env_file=None).worker_cache_dir == (PROJECT_ROOT / "var/cache").resolve()


def test_an_absolute_cache_folder_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_CACHE_DIR", "/srv/media-cache")
    assert Settings(_env_file=None).worker_cache_dir == Path("/srv/media-cache")

"""Uploads and `.env` are readable by their owner only, whatever the umask."""

from __future__ import annotations

import importlib.util
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from core.storage import LocalStorage

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A umask that would leave new files world-readable."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("loose_umask")
def test_storage_folders_are_0700_and_files_0600(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage")
    upload = storage.open_upload()
    upload.write(b"private audio")
    assert mode(upload.temp_path) == 0o600
    key = upload.commit()
    path = storage.path(key)
    assert mode(path) == 0o600
    for folder in (storage.root, storage.incoming, storage.media, path.parent):
        assert mode(folder) == 0o700, folder


@pytest.mark.usefixtures("loose_umask")
def test_storage_tightens_folders_an_older_version_made(tmp_path: Path) -> None:
    root = tmp_path / "storage"
    (root / "media").mkdir(parents=True, mode=0o755)
    root.chmod(0o755)
    storage = LocalStorage(root)
    assert mode(storage.root) == 0o700
    assert mode(storage.media) == 0o700


def _run_local(env_file: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_local", ROOT / "deploy" / "run_local.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ENV_FILE", env_file)
    monkeypatch.delenv("SUPERVISOR_USER", raising=False)
    monkeypatch.delenv("SUPERVISOR_PASSWORD", raising=False)
    return module


@pytest.mark.usefixtures("loose_umask")
def test_env_file_is_written_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    _run_local(env_file, monkeypatch).ensure_dashboard_login()
    assert mode(env_file) == 0o600
    assert "SUPERVISOR_PASSWORD=" in env_file.read_text()
    assert "SUPERVISOR_PASSWORD=\n" not in env_file.read_text()


@pytest.mark.usefixtures("loose_umask")
def test_an_existing_readable_env_file_is_tightened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SUPERVISOR_USER=me\nSUPERVISOR_PASSWORD=already-set\n")
    env_file.chmod(0o644)
    _run_local(env_file, monkeypatch).ensure_dashboard_login()
    assert mode(env_file) == 0o600
    assert "already-set" in env_file.read_text()

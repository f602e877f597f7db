"""`pytest -m unit` does not import what only the other tiers need.

The unit tier runs on a machine without services: collecting it must not load the Postgres
driver, the migrations, the browser driver or the subprocess platform, nor any module or
conftest of another tier. (Media made with ffmpeg, `tests.support.media`, needs no service
and is fine.) Each check collects in a fresh interpreter and reads its
`sys.modules` afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]

COLLECT = """
import json, sys
import pytest

class Recorder:
    def pytest_collection_finish(self, session):
        self.items = [item.nodeid for item in session.items]
        self.modules = sorted(sys.modules)

recorder = Recorder()
code = pytest.main([*sys.argv[2:], "--collect-only", "-q", "-p", "no:cacheprovider"],
                   plugins=[recorder])
with open(sys.argv[1], "w") as out:
    json.dump({"code": int(code), "items": recorder.items, "modules": recorder.modules}, out)
"""

INTEGRATION_ONLY = (
    "psycopg",  # the Postgres driver
    "alembic",  # migrations
    "playwright",  # the browser driver
    "tests.support.platform",  # API and worker as subprocesses
    "tests.support.private",
    "tests.support.proxy",
    "tests.support.cleanup",
)
OTHER_TIERS = (
    "tests.integration",
    "tests.faults",
    "tests.e2e",
    "tests.containers.conftest",
    "tests.containers.test_",
)


def collect(tmp_path: Path, *args: str) -> dict[str, list[str] | int]:
    out = tmp_path / "collected.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_CORE_"))}
    subprocess.run(
        [sys.executable, "-c", COLLECT, str(out), *args], cwd=ROOT, env=env, check=True, timeout=300
    )
    return dict(json.loads(out.read_text()))


def loaded(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(f"{name}.") for m in modules)


def test_collecting_the_unit_tier_imports_no_integration_dependency(tmp_path: Path) -> None:
    result = collect(tmp_path, "-m", "unit")
    assert result["code"] == 0
    items, modules = result["items"], result["modules"]
    assert isinstance(items, list)
    assert isinstance(modules, list)
    assert items
    assert all(item.startswith("tests/unit/") for item in items), items
    assert [name for name in INTEGRATION_ONLY if loaded(modules, name)] == []
    assert [m for m in modules if m.startswith(OTHER_TIERS)] == []


def test_another_tier_is_still_collected_and_the_unit_tier_is_skipped(tmp_path: Path) -> None:
    result = collect(tmp_path, "-m", "integration or faults")
    assert result["code"] == 0
    items, modules = result["items"], result["modules"]
    assert isinstance(items, list)
    assert isinstance(modules, list)
    tiers = {item.split("/")[1] for item in items}
    assert tiers == {"integration", "faults"}
    assert not loaded(modules, "tests.unit")

"""The benchmark harness at smoke size: every benchmark runs end to end and writes its report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.platform import ROOT

pytestmark = pytest.mark.integration


def test_bench_smoke_run_writes_a_report(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(report)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    text = report.read_text()
    for title in (
        "## Machine and versions",
        "## 1. Overhead",
        "## 2. Throughput and scaling",
        "## 3. Queue latency",
        "## 4. Upload ingest",
        "## 6. Search",
        "## 7. Worker memory",
        "## Storage: s3 against local",
        "## 13. Scheduling: queue latency and ETA accuracy",
        "## Shipped defaults",
    ):
        assert title in text
    assert "## Failures" not in text

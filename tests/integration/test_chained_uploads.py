"""A file whose header tells a fraction of its length is refused at upload when the whole of
it passes the duration limit (chained Ogg, concatenated MPEG-TS and FLAC)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.media import CHAINED_CODECS, chained
from tests.support.private import PrivatePlatform, private_platform

pytestmark = pytest.mark.integration

LINK_SECONDS = 10
LINKS = 3
LIMIT = LINK_SECONDS * 2  # one link fits; the three links together do not


@pytest.fixture(scope="module")
def platform(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    with private_platform(
        run_dir / "chained", workers=0, MAX_DURATION_SECONDS=str(LIMIT)
    ) as platform:
        yield platform


@pytest.mark.parametrize("fmt", sorted(CHAINED_CODECS))
def test_a_chained_file_over_the_limit_is_refused(
    platform: PrivatePlatform, tmp_path: Path, fmt: str
) -> None:
    path = chained(tmp_path, fmt, link_seconds=LINK_SECONDS, links=LINKS)
    assert LINK_SECONDS < LIMIT < LINK_SECONDS * LINKS
    response = platform.upload(path)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"]["code"] == "duration_exceeded"
    assert body["rejected"][0]["filename"] == path.name


# --- the worker's own check, and its memory ----------------------------------------------------

WORKER_LINK_SECONDS = 300
WORKER_LINKS = 6
WORKER_LIMIT = 600  # two links fit; the six together (30 min) do not
PEAK_RSS_BOUND_MB = 600


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            children = [int(c) for c in task.read_text().split()]
            found.extend(children)
            pending.extend(children)
    return found


def _peak_rss_mb(pid: int) -> float:
    """The highest VmHWM (peak resident memory) among the worker's pool processes."""
    peaks = []
    for child in _descendants(pid):
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    assert peaks, "the worker has no pool process"
    return max(peaks)


@pytest.fixture(scope="module")
def workerless(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    with private_platform(
        run_dir / "chained-worker", workers=0, MAX_DURATION_SECONDS=str(WORKER_LIMIT)
    ) as platform:
        yield platform


@pytest.mark.parametrize("fmt", sorted(CHAINED_CODECS))
def test_a_chained_file_the_probe_missed_fails_in_the_worker_within_bounded_memory(
    workerless: PrivatePlatform, tmp_path: Path, fmt: str
) -> None:
    """A file over the limit is refused at upload; should one get past the probe (here: a
    stored file replaced after its upload), the worker fails it with duration_exceeded as
    soon as its decoding passes the limit, its memory bounded by one window's worth."""
    whole = chained(tmp_path, fmt, link_seconds=WORKER_LINK_SECONDS, links=WORKER_LINKS)
    refused = workerless.upload(whole)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "duration_exceeded"

    link = tmp_path / f"link-{WORKER_LINK_SECONDS:g}s.{fmt}"
    accepted = workerless.upload(link)
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["items"][0]["id"]
    key = workerless.job_row(job_id)["storage_key"]
    [stored] = [p for p in Path(workerless.env["STORAGE_DIR"]).rglob(key) if p.is_file()]
    stored.write_bytes(whole.read_bytes())

    worker = workerless.start_worker(f"worker-{fmt}")
    try:
        workerless.wait_worker(f"worker-{fmt}", timeout=120)
        job = workerless.wait_status(job_id, timeout=300)
        assert worker.popen is not None
        peak = _peak_rss_mb(worker.popen.pid)
    finally:
        worker.stop()
    print(f"{fmt}: {WORKER_LINKS * WORKER_LINK_SECONDS} s file, worker peak RSS {peak:.0f} MB")
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "duration_exceeded"
    assert peak < PEAK_RSS_BOUND_MB

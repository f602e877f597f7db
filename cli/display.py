"""What a command shows while files upload and jobs run: bars on a terminal, else lines.

Both displays take the same calls. A row is named by a key (a file's position for an upload);
once the API accepts the file, its job id names the same file for the events that follow.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol, TextIO

from cli.api import ApiError, Job
from cli.formatting import accepted_as, error_line, event_line, size


class Display(Protocol):
    def __enter__(self) -> Display: ...
    def __exit__(self, *exc: object) -> None: ...
    def uploading(self, key: str, name: str, total: int) -> None: ...
    def sent(self, key: str, done: int) -> None: ...
    def accepted(self, key: str, job: Job, *, follow: bool) -> None: ...
    def refused(self, key: str, error: ApiError) -> None: ...
    def following(self, job: Job) -> None: ...
    def event(self, job_id: str, kind: str, data: dict[str, Any]) -> None: ...
    def note(self, text: str) -> None: ...


class LineDisplay:
    """One line per event, for output that is not a terminal (a pipe, a file, a CI log)."""

    def __init__(self, out: TextIO | None = None):
        self.out = out or sys.stdout
        self.names: dict[str, str] = {}

    def __enter__(self) -> LineDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.out.flush()

    def _write(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def uploading(self, key: str, name: str, total: int) -> None:
        self.names[key] = name
        self._write(f"{name}: uploading {size(total)}")

    def sent(self, key: str, done: int) -> None:
        """Bytes are counted on the bars only: a line per chunk would say nothing."""

    def accepted(self, key: str, job: Job, *, follow: bool) -> None:
        name = self.names.get(key, str(job.get("filename", key)))
        self.names[str(job["id"])] = name
        self._write(f"{name}: accepted {accepted_as(job)}")

    def refused(self, key: str, error: ApiError) -> None:
        self._write(f"{self.names.get(key, key)}: refused, {error_line(error)}")

    def following(self, job: Job) -> None:
        self.names[str(job["id"])] = str(job.get("filename") or job["id"])

    def event(self, job_id: str, kind: str, data: dict[str, Any]) -> None:
        self._write(event_line(self.names.get(job_id, job_id), kind, data))

    def note(self, text: str) -> None:
        self._write(text)


def choose(bars: bool | None = None) -> Display:
    """Bars when standard output is a terminal (or `bars` says so), else lines."""
    if bars is None:
        bars = sys.stdout.isatty()
    if bars:
        from cli.bars import BarDisplay

        return BarDisplay()
    return LineDisplay()

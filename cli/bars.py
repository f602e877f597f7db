"""Progress bars on a terminal (rich): per file an upload bar, then its transcription bar."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn
from rich.progress_bar import ProgressBar
from rich.table import Column
from rich.text import Text

from cli.api import ApiError, Job
from cli.formatting import error_line, event_detail, shorten, size

PHASE_STYLES = {
    "uploading": "cyan",
    "uploaded": "green",
    "refused": "bold red",
    "queued": "yellow",
    "processing": "cyan",
    "progress": "cyan",
    "completed": "bold green",
    "failed": "bold red",
    "cancelled": "magenta",
}
DETAIL_WIDTH = 48
STEPS = 1000
"""A job's bar counts progress (0-1) in thousandths."""


def _steps(progress: float | None) -> int:
    return round(min(max(progress or 0.0, 0.0), 1.0) * STEPS)


ENDED_BADLY = {"refused": "red", "failed": "red", "cancelled": "magenta"}


class PhaseBar(BarColumn):
    """A bar coloured by how its row ended: a refused upload or a failed job is red."""

    def render(self, task: Task) -> ProgressBar:
        bar = super().render(task)
        style = ENDED_BADLY.get(str(task.fields.get("phase")))
        if style:
            bar.complete_style = bar.finished_style = style
        return bar


class PhaseColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        phase = str(task.fields.get("phase", ""))
        shown = "transcribing" if phase == "progress" else phase
        return Text(shown, style=PHASE_STYLES.get(phase, ""))


class DetailColumn(ProgressColumn):
    """An upload's bytes and speed; a job's last words recognised, or how it ended."""

    def render(self, task: Task) -> Text:
        if task.fields.get("phase") == "uploading":
            total = task.total or 0
            speed = f" {size(task.speed)}/s" if task.speed else ""
            return Text(f"{size(task.completed)}/{size(total)}{speed}", style="dim")
        return Text(shorten(str(task.fields.get("detail", "")), DETAIL_WIDTH), style="dim")


class BarDisplay:
    def __init__(self, console: Console | None = None):
        self.console = console or Console()
        self.progress = Progress(
            TextColumn(
                "{task.fields[name]}",
                table_column=Column(no_wrap=True, overflow="ellipsis", max_width=28),
            ),
            PhaseColumn(table_column=Column(no_wrap=True, width=12)),
            PhaseBar(bar_width=28),
            TextColumn("{task.percentage:>3.0f}%"),
            DetailColumn(table_column=Column(no_wrap=True, overflow="ellipsis")),
            console=self.console,
            refresh_per_second=8,
        )
        self.uploads: dict[str, TaskID] = {}
        self.jobs: dict[str, TaskID] = {}

    def __enter__(self) -> BarDisplay:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def uploading(self, key: str, name: str, total: int) -> None:
        self.uploads[key] = self.progress.add_task(
            "", total=max(total, 1), name=name, phase="uploading", detail=""
        )

    def sent(self, key: str, done: int) -> None:
        self.progress.update(self.uploads[key], completed=done)

    def accepted(self, key: str, job: Job, *, follow: bool) -> None:
        task = self.uploads[key]
        total = self.progress.tasks[task].total
        reused = "  reused" if job.get("reused_from") else ""
        detail = f"{size(total or 0)}  {job['id']}{reused}"
        self.progress.update(task, completed=total, phase="uploaded", detail=detail)
        if follow:
            self._add_job(job, name="  └ transcription")

    def refused(self, key: str, error: ApiError) -> None:
        self.progress.update(self.uploads[key], phase="refused", detail=error_line(error))

    def following(self, job: Job) -> None:
        self._add_job(job, name=str(job.get("filename") or job["id"]))

    def _add_job(self, job: Job, name: str) -> None:
        status = str(job.get("status", "queued"))
        self.jobs[str(job["id"])] = self.progress.add_task(
            "",
            total=STEPS,
            completed=_steps(job.get("progress")),
            name=name,
            phase=status,
            detail=event_detail(status, job),
        )

    def event(self, job_id: str, kind: str, data: dict[str, Any]) -> None:
        task = self.jobs.get(job_id)
        if task is None:
            return
        changes: dict[str, Any] = {"phase": kind, "completed": _steps(data.get("progress"))}
        if kind == "progress":
            changes["detail"] = str((data.get("segment") or {}).get("text", ""))
        elif kind != "processing" or event_detail(kind, data):
            changes["detail"] = event_detail(kind, data)
        self.progress.update(task, **changes)

    def note(self, text: str) -> None:
        self.progress.console.print(text, markup=False, highlight=False)

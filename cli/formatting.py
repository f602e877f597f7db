"""How the client writes things: sizes, clock times, event lines, the job table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cli.api import ApiError

Job = dict[str, Any]


def size(n: float) -> str:
    """Bytes in the largest unit that keeps the number at least 1 (1 kB = 1000 B)."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def clock(seconds: float | None) -> str:
    """`m:ss`, or `h:mm:ss` past an hour; `-` when unknown."""
    if seconds is None:
        return "-"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def shorten(text: str, width: int) -> str:
    """One line of at most `width` characters, ending in an ellipsis when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(width - 1, 0)].rstrip() + "…"


def percent(progress: float | None) -> str:
    return f"{round((progress or 0) * 100):d}%"


def accepted_as(job: Job) -> str:
    """The accepted job's id, and the earlier transcription it was completed from when the
    service reused one (deduplication)."""
    reused = job.get("reused_from")
    return f"{job['id']} (reused from {reused})" if reused else str(job["id"])


def error_line(error: ApiError) -> str:
    """The one line an error is reported in."""
    message = " ".join(error.message.split())
    return f"error: {error.code}: {message}" if message else f"error: {error.code}"


def event_detail(kind: str, data: Job) -> str:
    """What an event says beyond its type, in a few words."""
    if kind == "processing":
        attempt = data.get("attempt")
        reason = data.get("restart_reason")
        parts = [f"attempt {attempt}" if attempt and attempt > 1 else "", reason or ""]
        return ", ".join(p for p in parts if p)
    if kind == "progress":
        segment = data.get("segment") or {}
        stamp = f"[{clock(segment.get('start'))}-{clock(segment.get('end'))}]"
        return f"{stamp} {shorten(str(segment.get('text', '')), 60)}"
    if kind == "completed":
        facts = [data.get("language") or "", clock(data.get("duration_seconds"))]
        return ", ".join(f for f in facts if f and f != "-")
    if kind == "failed":
        error = data.get("error") or {}
        return f"{error.get('code', 'failed')}: {error.get('message', '')}".rstrip(": ")
    if kind == "cancelled" and data.get("deleted"):
        return "deleted"
    if kind == "queued" and data.get("waiting_for_worker"):
        return "waiting for a worker that serves its model"
    return ""


def event_line(name: str, kind: str, data: Job) -> str:
    """The line an event is written as when there are no bars."""
    detail = event_detail(kind, data)
    line = f"{name}: {kind} {percent(data.get('progress'))}"
    return f"{line} {detail}" if detail else line


def when(stamp: str | None) -> str:
    if not stamp:
        return "-"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


LIST_COLUMNS = ("ID", "STATUS", "PROGRESS", "DURATION", "CREATED", "FILE")


def list_row(job: Job) -> tuple[str, ...]:
    return (
        str(job.get("id", "")),
        str(job.get("status", "")),
        percent(job.get("progress")),
        clock(job.get("duration_seconds")),
        when(job.get("created_at")),
        str(job.get("filename", "")),
    )


def table(rows: list[tuple[str, ...]], header: tuple[str, ...] = LIST_COLUMNS) -> str:
    """Plain columns separated by two spaces (the last one not padded), for any output."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)


def job_summary(job: Job) -> str:
    """`get ID` without a format: the job's facts, then its text."""
    facts = [
        ("id", job.get("id")),
        ("file", job.get("filename")),
        ("status", f"{job.get('status')} {percent(job.get('progress'))}"),
        ("model", job.get("model")),
        ("language", job.get("language") or job.get("requested_language") or "-"),
        ("duration", clock(job.get("duration_seconds"))),
        ("created", when(job.get("created_at"))),
        ("completed", when(job.get("completed_at"))),
    ]
    error = job.get("error")
    if error:
        facts.append(("error", f"{error.get('code')}: {error.get('message')}"))
    lines = [f"{label + ':':<11}{value}" for label, value in facts]
    if job.get("text"):
        lines += ["", str(job["text"]).strip()]
    return "\n".join(lines)

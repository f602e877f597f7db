"""The commands besides `submit`: list, get, watch, cancel, retry, delete.

Each takes the open `Api` and its parsed arguments and returns the exit status; an error
the API answers is raised as `ApiError` and reported by `cli.main` in one line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from cli.api import Api, ApiError
from cli.display import Display
from cli.follow import Follower
from cli.formatting import error_line, job_summary, list_row, table

PAGE_LIMIT = 200
"""The API's largest page."""


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


async def list_jobs(api: Api, args: argparse.Namespace) -> int:
    params: dict[str, str | int] = {}
    for name, value in (("q", args.search), ("text", args.text), ("status", args.status)):
        if value:
            params[name] = value
    jobs: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(jobs) < args.limit:
        params["limit"] = min(args.limit - len(jobs), PAGE_LIMIT)
        if cursor:
            params["cursor"] = cursor
        page = await api.jobs(params)
        jobs += page.get("items", [])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    if args.json:
        _print(json.dumps(jobs, indent=2))
    elif jobs:
        _print(table([list_row(job) for job in jobs]))
    return 0


async def get_job(api: Api, args: argparse.Namespace) -> int:
    if args.format:
        content = await api.transcript(args.id, args.format)
        if args.output:
            await asyncio.to_thread(Path(args.output).write_bytes, content)
            sys.stderr.write(f"wrote {args.output} ({len(content)} bytes)\n")
        else:
            sys.stdout.buffer.write(content)
            sys.stdout.flush()
        return 0
    job = await api.job(args.id)
    text = json.dumps(job, indent=2) if args.json else job_summary(job)
    if args.output:
        await asyncio.to_thread(Path(args.output).write_text, text + "\n", "utf-8")
    else:
        _print(text)
    return 0


async def watch(api: Api, display: Display, ids: list[str]) -> dict[str, str]:
    """Follow existing jobs to their end; their end states."""
    jobs = [await api.job(job_id) for job_id in ids]
    follower = Follower(api, display.event, on_retry=lambda why: display.note(f"({why})"))
    with display:
        for job in jobs:
            display.following(job)
            follower.add(str(job["id"]))
        follower.seal()
        ends = await follower.run()
    return {str(job["id"]): ends.get(str(job["id"]), "") for job in jobs}


async def change(api: Api, action: str, ids: list[str]) -> int:
    """`cancel`, `retry` or `delete` each id; every refusal is reported, the rest go on."""
    failed = 0
    for job_id in ids:
        try:
            job = await api.change(job_id, action)
        except ApiError as error:
            if error.status is None:
                raise
            failed += 1
            sys.stderr.write(f"{job_id}: {error_line(error)}\n")
            continue
        state = "deleted" if job is None else str(job.get("status"))
        _print(f"{job_id}  {state}")
    return 1 if failed else 0

"""`soundscripter`: parse the command line, run the command, report errors in one line.

Exit status: 0 when everything asked for succeeded; 1 when a file was refused or a job
failed or was cancelled, or on an error (printed as `error: <code>: <message>`); 2 for a
wrong command line; 130 after Ctrl+C.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from cli import commands
from cli.api import Api, ApiError
from cli.config import Config
from cli.display import choose
from cli.formatting import error_line
from cli.parser import build_parser
from cli.submit import Submission, refused_lines

INTERRUPTED = 130


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


async def _run(args: argparse.Namespace, config: Config, submission: Submission | None) -> int:
    api = Api.open(config)
    try:
        if submission is not None:
            with choose(args.bars) as display:
                await submission.run(api, display)
            for line in refused_lines(submission):
                _err(line)
            if not args.quiet:
                for line in submission.summary():
                    print(line)
            return submission.exit_code()
        if args.command == "watch":
            ends = await commands.watch(api, choose(args.bars), args.ids)
            return 0 if all(end == "completed" for end in ends.values()) else 1
        if args.command == "list":
            return await commands.list_jobs(api, args)
        if args.command == "get":
            return await commands.get_job(api, args)
        return await commands.change(api, args.command, args.ids)
    finally:
        await api.close()


def _fields(args: argparse.Namespace) -> dict[str, str]:
    """The upload form's fields the user set (the API's defaults apply to the rest)."""
    names = ("model", "language", "speakers", "priority", "task", "initial_prompt")
    fields = {name: str(getattr(args, name)) for name in names if getattr(args, name)}
    if args.word_timestamps:
        fields["word_timestamps"] = "true"
    if not args.dedup:
        fields["dedup"] = "false"
    return fields


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = Config.of(args.url, args.api_key)
    submission = None
    if args.command == "submit":
        missing = [p for p in args.files if not Path(p).is_file()]
        if missing:
            _err(f"error: no_such_file: {missing[0]} is not a file")
            return 1
        submission = Submission([Path(p) for p in args.files], _fields(args), args.wait)
    try:
        return asyncio.run(_run(args, config, submission))
    except ApiError as error:
        _err(error_line(error))
        return 1
    except KeyboardInterrupt:
        if submission is not None:
            for line in submission.interrupted():
                _err(line)
        else:
            _err("interrupted (the jobs themselves go on in the service).")
        return INTERRUPTED

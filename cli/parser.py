"""The command line: global options (also accepted after the command) and each command."""

from __future__ import annotations

import argparse

from cli.config import KEY_VARIABLE, URL_VARIABLE

DESCRIPTION = "Upload, follow and download SoundScripter transcriptions from the command line."


def _connection_options(suppress: bool) -> argparse.ArgumentParser:
    """--url and --api-key; on the commands with no default, so a value given before the
    command is not overwritten by the command's own parser."""
    default = argparse.SUPPRESS if suppress else None
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--url", default=default, help=f"the service's address (${URL_VARIABLE})")
    parser.add_argument("--api-key", default=default, help=f"an API key (${KEY_VARIABLE})")
    bars = parser.add_mutually_exclusive_group()
    bars.add_argument(
        "--bars",
        dest="bars",
        action="store_const",
        const=True,
        default=default,
        help="progress bars even when the output is not a terminal",
    )
    bars.add_argument(
        "--lines",
        dest="bars",
        action="store_const",
        const=False,
        default=default,
        help="one line per event even on a terminal",
    )
    return parser


def _submit(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    submit = commands.add_parser(
        "submit",
        parents=[common],
        help="upload files (bars per file), optionally wait for their transcripts",
        description="Upload files one after another. With --wait, follow each job live and "
        "exit non-zero if any file was refused or failed.",
    )
    submit.add_argument("files", nargs="+", metavar="FILE")
    submit.add_argument("--model", help="a model the service offers")
    submit.add_argument("--language", help="language code, or auto (the default)")
    submit.add_argument("--task", choices=("transcribe", "translate"))
    submit.add_argument("--speakers", help="off, auto, 1-8 or channels")
    submit.add_argument("--priority", choices=("low", "normal", "high"))
    submit.add_argument("--initial-prompt", help="text that steers spelling (names, terms)")
    submit.add_argument("--word-timestamps", action="store_true", help="times for every word")
    submit.add_argument(
        "--no-dedup",
        dest="dedup",
        action="store_false",
        help="transcribe again even if this recording was transcribed before with these options",
    )
    submit.add_argument("-w", "--wait", action="store_true", help="follow the jobs to the end")
    submit.add_argument("-q", "--quiet", action="store_true", help="no summary lines")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="soundscripter", description=DESCRIPTION, parents=[_connection_options(False)]
    )
    common = _connection_options(True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _submit(commands, common)

    listing = commands.add_parser("list", parents=[common], help="list transcriptions")
    listing.add_argument("-s", "--search", help="file name contains")
    listing.add_argument("-t", "--text", help="search what was said")
    listing.add_argument("--status", help="comma-separated statuses, e.g. failed,cancelled")
    listing.add_argument("-n", "--limit", type=int, default=50, help="at most this many")
    listing.add_argument("--json", action="store_true", help="the API's JSON")

    get = commands.add_parser(
        "get", parents=[common], help="show a transcription, or download its transcript"
    )
    get.add_argument("id")
    get.add_argument("-f", "--format", help="txt, srt, vtt, json, tsv … (download)")
    get.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    get.add_argument("--json", action="store_true", help="the API's JSON")

    watch = commands.add_parser("watch", parents=[common], help="follow jobs live to their end")
    watch.add_argument("ids", nargs="+", metavar="ID")
    for action, text in (
        ("cancel", "cancel jobs (queued or running)"),
        ("retry", "queue failed or cancelled jobs again"),
        ("delete", "delete transcriptions and their media"),
    ):
        command = commands.add_parser(action, parents=[common], help=text)
        command.add_argument("ids", nargs="+", metavar="ID")
    return parser

"""The command-line client's pure parts: configuration, the command line, errors, formatting."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from cli.api import ApiError, error_of
from cli.config import DEFAULT_URL, Config
from cli.formatting import (
    clock,
    error_line,
    event_line,
    job_summary,
    list_row,
    percent,
    shorten,
    size,
    table,
)
from cli.parser import build_parser

pytestmark = pytest.mark.unit

JOB_ID = "3f2a1b2c-0000-4000-8000-000000000001"


# --- configuration and the command line ---------------------------------------------------


def test_flags_win_over_the_environment_which_wins_over_the_default() -> None:
    env = {"SOUNDSCRIPTER_URL": "http://env:8000/", "SOUNDSCRIPTER_API_KEY": "env-key"}
    assert Config.of(None, None, env) == Config(url="http://env:8000", api_key="env-key")
    assert Config.of("http://flag:1", "flag-key", env) == Config("http://flag:1", "flag-key")
    assert Config.of(None, None, {}) == Config(url=DEFAULT_URL, api_key=None)
    assert Config.of(None, None, {"SOUNDSCRIPTER_API_KEY": ""}).api_key is None


def test_connection_options_are_taken_before_and_after_the_command() -> None:
    parser = build_parser()
    before = parser.parse_args(["--url", "http://a:1", "--api-key", "k", "list"])
    after = parser.parse_args(["list", "--url", "http://a:1", "--api-key", "k"])
    for args in (before, after):
        assert (args.url, args.api_key, args.command) == ("http://a:1", "k", "list")
    assert parser.parse_args(["list"]).url is None
    assert parser.parse_args(["--lines", "watch", JOB_ID]).bars is False
    assert parser.parse_args(["watch", "--bars", JOB_ID]).bars is True
    assert parser.parse_args(["watch", JOB_ID]).bars is None


def test_submit_takes_files_and_the_upload_options() -> None:
    args = build_parser().parse_args(
        [
            "submit",
            "a.wav",
            "b.mp3",
            "--model",
            "base",
            "--language",
            "de",
            "--speakers",
            "auto",
            "--priority",
            "high",
            "--wait",
        ]
    )
    assert args.files == ["a.wav", "b.mp3"]
    assert (args.model, args.language, args.speakers, args.priority) == (
        "base",
        "de",
        "auto",
        "high",
    )
    assert args.wait is True
    assert build_parser().parse_args(["submit", "a.wav"]).wait is False


@pytest.mark.parametrize(
    "argv",
    [
        ["submit"],  # no file
        ["submit", "a.wav", "--priority", "urgent"],  # not a priority
        ["watch"],  # no id
        ["cancel"],
        ["frobnicate"],
        ["list", "--bars", "--lines"],  # one or the other
    ],
)
def test_a_wrong_command_line_exits_with_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2


def test_get_list_and_lifecycle_arguments() -> None:
    parser = build_parser()
    get = parser.parse_args(["get", JOB_ID, "--format", "srt", "-o", "out.srt"])
    assert (get.id, get.format, get.output) == (JOB_ID, "srt", "out.srt")
    listing = parser.parse_args(
        ["list", "--search", "inter", "--text", "budget", "--status", "failed,cancelled", "-n", "5"]
    )
    assert (listing.search, listing.text, listing.status, listing.limit) == (
        "inter",
        "budget",
        "failed,cancelled",
        5,
    )
    assert parser.parse_args(["delete", "a", "b"]).ids == ["a", "b"]


# --- errors -------------------------------------------------------------------------------


def test_the_apis_error_shape_gives_code_and_message() -> None:
    response = httpx.Response(409, json={"error": {"code": "conflict", "message": "Not now."}})
    error = error_of(response)
    assert (error.code, error.message, error.status) == ("conflict", "Not now.", 409)
    assert error_line(error) == "error: conflict: Not now."
    assert not error.about_the_file


def test_a_body_without_the_error_shape_is_named_by_its_status() -> None:
    error = error_of(httpx.Response(502, text="<html>Bad gateway</html>"))
    assert (error.code, error.message) == ("http_502", "Bad Gateway")


def test_a_refusal_that_lists_the_file_is_about_the_file() -> None:
    body = {
        "error": {"code": "unsupported_media", "message": "Not media."},
        "rejected": [{"filename": "x.wav", "error": {"code": "unsupported_media"}}],
    }
    assert error_of(httpx.Response(415, json=body)).about_the_file


def test_an_error_is_one_line() -> None:
    assert error_line(ApiError("x", "first\nsecond  line")) == "error: x: first second line"
    assert error_line(ApiError("x", "")) == "error: x"


# --- formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (234_200, "234.2 kB"), (5e9, "5.0 GB")],
)
def test_sizes(n: float, text: str) -> None:
    assert size(n) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "-"), (0, "0:00"), (5.4, "0:05"), (61, "1:01"), (3725, "1:02:05")]
)
def test_clock_times(seconds: float | None, text: str) -> None:
    assert clock(seconds) == text


def test_shorten_keeps_one_line_and_marks_a_cut() -> None:
    assert shorten("a  b\nc", 10) == "a b c"
    assert shorten("abcdefghijkl", 6) == "abcde…"
    assert percent(0.424) == "42%"
    assert percent(None) == "0%"


@pytest.mark.parametrize(
    ("kind", "data", "line"),
    [
        ("queued", {"progress": 0}, "a.wav: queued 0%"),
        ("processing", {"progress": 0, "attempt": 1}, "a.wav: processing 0%"),
        (
            "processing",
            {"progress": 0, "attempt": 2, "restart_reason": "worker_lost"},
            "a.wav: processing 0% attempt 2, worker_lost",
        ),
        (
            "progress",
            {"progress": 0.5, "segment": {"start": 1.0, "end": 4.6, "text": " Hello there."}},
            "a.wav: progress 50% [0:01-0:05] Hello there.",
        ),
        (
            "completed",
            {"progress": 1, "language": "en", "duration_seconds": 65},
            "a.wav: completed 100% en, 1:05",
        ),
        (
            "failed",
            {"progress": 0.2, "error": {"code": "undecodable_audio", "message": "Broken."}},
            "a.wav: failed 20% undecodable_audio: Broken.",
        ),
        ("cancelled", {"progress": 0, "deleted": True}, "a.wav: cancelled 0% deleted"),
    ],
)
def test_event_lines(kind: str, data: dict[str, object], line: str) -> None:
    assert event_line("a.wav", kind, data) == line


def test_the_job_table_lines_up_its_columns() -> None:
    jobs = [
        {
            "id": JOB_ID,
            "status": "completed",
            "progress": 1,
            "duration_seconds": 5,
            "created_at": None,
            "filename": "hello.wav",
        },
        {
            "id": "b",
            "status": "queued",
            "progress": 0,
            "duration_seconds": None,
            "created_at": None,
            "filename": "x y.mp3",
        },
    ]
    lines = table([list_row(job) for job in jobs]).splitlines()
    assert lines[0].split() == ["ID", "STATUS", "PROGRESS", "DURATION", "CREATED", "FILE"]
    assert lines[1].split() == [JOB_ID, "completed", "100%", "0:05", "-", "hello.wav"]
    assert lines[2].split() == ["b", "queued", "0%", "-", "-", "x", "y.mp3"]
    starts = {
        line.index(word)
        for line, word in zip(lines, ["STATUS", "completed", "queued"], strict=True)
    }
    assert len(starts) == 1


def test_a_jobs_summary_ends_with_its_text() -> None:
    job = {
        "id": JOB_ID,
        "filename": "a.wav",
        "status": "failed",
        "progress": 0.5,
        "model": "tiny.en",
        "error": {"code": "undecodable_audio", "message": "Broken."},
        "text": None,
    }
    summary = job_summary(job)
    assert "status:    failed 50%" in summary
    assert "error:     undecodable_audio: Broken." in summary
    done = job_summary({**job, "status": "completed", "error": None, "text": " Hi there. "})
    assert done.endswith("\n\nHi there.")


# --- packaging ----------------------------------------------------------------------------


def _third_party_imports() -> set[str]:
    found: set[str] = set()
    for path in (Path(__file__).resolve().parents[2] / "cli").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"cli", "__future__"}


def test_the_cli_extra_brings_what_the_client_imports() -> None:
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text())["project"]
    extra = {name.replace("-", "_") for name in project["optional-dependencies"]["cli"]}
    assert extra == _third_party_imports() == {"httpx", "httpx_sse", "rich"}
    assert project["scripts"] == {"soundscripter": "cli.main:main"}

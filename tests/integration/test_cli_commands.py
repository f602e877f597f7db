"""The `soundscripter` commands against the running platform, with output that is not a
terminal: one line per event, downloads, the library, lifecycle, errors in one line.

Most run `cli.main.main` in this process (its output captured, so not a terminal); one runs
the installed console script with its output piped, and one follows a job while the API
restarts under it.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cli.main import main
from tests.support import media
from tests.support.platform import Platform, free_port
from tests.support.private import PrivatePlatform, private_platform
from tests.support.subtitle_checks import read_cues

pytestmark = pytest.mark.integration

SCRIPT = Path(sys.executable).parent / "soundscripter"
WORDS = "The harbour master counted {n} fishing boats before the storm reached the pier."
LINE = re.compile(
    r"^(?P<name>\S+): (?P<kind>uploading|accepted|refused|queued|processing|progress|"
    r"completed|failed|cancelled)\b(?P<rest>.*)$"
)
KEY = "ann-" + secrets.token_hex(16)
SUMMARY = re.compile(r"^(?P<id>[0-9a-f-]{36}|-)\s+(?P<status>\w+)\s+(?P<name>\S+)$")


def unique_clip(speech_file: Callable[..., Path], folder: Path, name: str) -> Path:
    """A recording no other test uploads, named `name`."""
    return media.unique_copy(speech_file(WORDS.format(n="twelve")), folder / name)


def run(
    capsys: pytest.CaptureFixture[str], url: str, *argv: str
) -> tuple[int, list[str], list[str]]:
    """`soundscripter --url URL argv…` in this process: status, stdout and stderr lines."""
    status = main(["--url", url, *argv])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.splitlines()


@pytest.fixture(scope="module")
def done(
    live_platform: Platform,
    speech_file: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    """One file submitted through the client (in this process) and completed."""
    folder = tmp_path_factory.mktemp("cli")
    clip = unique_clip(speech_file, folder, f"harbour{secrets.token_hex(3)}.wav")
    status = main(["--url", live_platform.base_url, "submit", str(clip), "--wait", "--quiet"])
    assert status == 0
    with live_platform.client() as client:
        [job] = client.get("/api/transcriptions", params={"q": clip.name}).json()["items"]
    assert job["status"] == "completed"
    return dict(job)


def test_piped_output_is_one_line_per_event(
    live_platform: Platform, speech_file: Callable[..., Path], tmp_path: Path
) -> None:
    assert SCRIPT.exists(), f"{SCRIPT} is missing: `make deps` installs the project"
    clip = unique_clip(speech_file, tmp_path, "piped.wav")
    done = subprocess.run(
        [str(SCRIPT), "submit", clip.name, "--wait"],
        cwd=tmp_path,
        env={"SOUNDSCRIPTER_URL": live_platform.base_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\x1b" not in done.stdout
    assert "━" not in done.stdout
    lines = done.stdout.splitlines()
    events = [LINE.match(line) for line in lines[:-1]]
    assert all(events), lines
    kinds = [m["kind"] for m in events if m]
    assert kinds[:2] == ["uploading", "accepted"]
    assert kinds[-1] == "completed"
    assert set(kinds[2:-1]) <= {"queued", "processing", "progress"}
    assert "progress" in kinds
    summary = SUMMARY.match(lines[-1])
    assert summary
    assert (summary["status"], summary["name"]) == ("completed", "piped.wav")
    accepted = next(m for m in events if m and m["kind"] == "accepted")
    assert accepted["rest"].strip() == summary["id"]
    assert live_platform.get(summary["id"])["status"] == "completed"


def test_get_writes_a_valid_srt_file(
    live_platform: Platform,
    done: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "out.srt"
    status, _, err = run(
        capsys, live_platform.base_url, "get", done["id"], "-f", "srt", "-o", str(target)
    )
    assert status == 0
    assert err == [f"wrote {target} ({target.stat().st_size} bytes)"]
    text = target.read_text(encoding="utf-8")
    numbers = [block.split("\n", 1)[0] for block in text.strip().split("\n\n")]
    cues = read_cues(text)
    assert cues, text
    assert numbers == [str(n) for n in range(1, len(cues) + 1)]
    times = [(cue.start, cue.end) for cue in cues]
    assert all(start <= end for start, end in times)
    assert times == sorted(times)
    spoken = " ".join(cue.text for cue in cues).lower()
    assert "harbour" in spoken or "harbor" in spoken
    assert "storm" in spoken


def test_get_shows_the_job_and_downloads_to_stdout(
    live_platform: Platform, done: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, live_platform.base_url, "get", done["id"])
    assert status == 0
    assert out[0] == f"id:        {done['id']}"
    assert "status:    completed 100%" in out
    assert out[-1] == done["text"].strip()
    status, out, _ = run(capsys, live_platform.base_url, "get", done["id"], "--format", "txt")
    assert status == 0
    assert " ".join(out).split() == done["text"].split()


def test_list_finds_by_name_by_what_was_said_and_by_status(
    live_platform: Platform, done: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = live_platform.base_url
    status, out, _ = run(capsys, url, "list", "--search", done["filename"])
    assert status == 0
    assert out[0].split() == ["ID", "STATUS", "PROGRESS", "DURATION", "CREATED", "FILE"]
    assert [line.split()[0] for line in out[1:]] == [done["id"]]
    said = max(re.findall(r"[a-z]+", done["text"].lower()), key=len)  # a word it recognised
    _, out, _ = run(capsys, url, "list", "--text", said, "--status", "completed")
    assert done["id"] in [line.split()[0] for line in out[1:]]
    _, out, _ = run(capsys, url, "list", "--search", done["filename"], "--status", "failed")
    assert out == []


def test_a_copy_is_reused_unless_no_dedup_is_given(
    live_platform: Platform,
    speech_file: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = unique_clip(speech_file, tmp_path, "first.wav")
    original = submitted(run(capsys, live_platform.base_url, "submit", str(first), "--wait")[1])
    copy = shutil.copy(first, tmp_path / "copy.wav")
    status, out, _ = run(capsys, live_platform.base_url, "submit", str(copy), "--wait")
    assert status == 0
    reused = submitted(out)
    assert f"copy.wav: accepted {reused} (reused from {original})" in out
    assert live_platform.get(reused)["reused_from"] == original
    again = shutil.copy(first, tmp_path / "again.wav")
    status, out, _ = run(
        capsys, live_platform.base_url, "submit", str(again), "--wait", "--no-dedup"
    )
    assert status == 0
    fresh = submitted(out)
    assert f"again.wav: accepted {fresh}" in out
    job = live_platform.get(fresh)
    assert (job["status"], job["reused_from"]) == ("completed", None)
    assert any(line.startswith("again.wav: processing") for line in out)


def submitted(lines: list[str]) -> str:
    """The job id in a submit's summary line."""
    found = SUMMARY.match(lines[-1])
    assert found, lines
    return found["id"]


def test_lifecycle_commands_and_their_refusals(
    live_platform: Platform,
    speech_file: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = live_platform.base_url
    clip = unique_clip(speech_file, tmp_path, "lifecycle.wav")
    status, out, _ = run(capsys, url, "submit", str(clip), "--wait")
    assert status == 0
    job_id = submitted(out)

    status, out, err = run(capsys, url, "cancel", job_id)
    assert status == 1
    assert out == []
    assert err == [f"{job_id}: error: invalid_state: The transcription is already completed."]

    status, out, err = run(capsys, url, "delete", job_id)
    assert (status, out, err) == (0, [f"{job_id}  deleted"], [])
    status, out, err = run(capsys, url, "get", job_id)
    assert status == 1
    assert err == ["error: not_found: No transcription with this id."]
    status, _, err = run(capsys, url, "retry", job_id)
    assert status == 1
    assert err == [f"{job_id}: error: not_found: No transcription with this id."]


def test_cancel_then_retry_a_queued_job(
    live_platform: Platform,
    speech_file: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = live_platform.base_url
    clip = unique_clip(speech_file, tmp_path, "second-thoughts.wav")
    status, out, _ = run(capsys, url, "submit", str(clip))  # without --wait: queued
    assert status == 0
    job_id = submitted(out)
    status, out, _ = run(capsys, url, "cancel", job_id)
    assert status == 0
    assert out in ([f"{job_id}  cancelled"], [f"{job_id}  completed"])  # it may have finished
    if out == [f"{job_id}  cancelled"]:
        status, _, _ = run(capsys, url, "watch", job_id)
        assert status == 1  # watching a cancelled job: it did not complete
        assert run(capsys, url, "retry", job_id)[1] == [f"{job_id}  queued"]
        status, out, _ = run(capsys, url, "watch", job_id)
        assert status == 0
        assert out[-1].startswith("second-thoughts.wav: completed 100%")


def test_a_refused_upload_field_is_reported_with_the_apis_code(
    live_platform: Platform,
    speech_file: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--priority is an upload field of newer services: sent as given; a service that does not
    know it says so with its code, and the client names the option."""
    clip = unique_clip(speech_file, tmp_path, "urgent.wav")
    with live_platform.client() as client:
        form = client.get("/openapi.json").json()["paths"]["/api/transcriptions"]["post"]
    fields = form["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    status, out, err = run(
        capsys, live_platform.base_url, "submit", str(clip), "--priority", "high"
    )
    if "priority" in fields:
        assert status == 0
        assert live_platform.get(submitted(out))["priority"] == "high"
    else:
        assert status == 1
        assert err[0].startswith("error: unknown_field: Unknown field 'priority'")
        assert err[1] == "this service does not take --priority yet; submit without it."


def test_a_bad_file_is_refused_and_the_exit_status_says_so(
    live_platform: Platform, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("Not a recording.\n")
    status, out, _ = run(capsys, live_platform.base_url, "submit", str(bad), "--wait")
    assert status == 1
    assert out[:2] == [
        "notes.wav: uploading 17 B",
        "notes.wav: refused, error: unsupported_media: "
        "The file is not a supported audio or video format.",
    ]
    assert SUMMARY.match(out[-1])


def test_errors_reaching_the_service_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    status, out, err = run(capsys, nobody, "list")
    assert (status, out) == (1, [])
    assert len(err) == 1
    assert err[0].startswith(f"error: unreachable: cannot reach {nobody}: ")
    missing = tmp_path / "missing.wav"
    status, _, err = run(capsys, nobody, "submit", str(missing))
    assert (status, err) == (1, [f"error: no_such_file: {missing} is not a file"])


@pytest.fixture(scope="module")
def keyed(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    """A platform that wants API keys (no worker: nothing here is transcribed)."""
    with private_platform(
        run_dir / "cli-keys",
        workers=0,
        headers={"Authorization": f"Bearer {KEY}"},
        API_KEYS=f"ann:{KEY}",
    ) as platform:
        yield platform


def test_the_api_key_comes_from_the_flag_or_the_environment(
    keyed: PrivatePlatform, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = keyed.base_url
    monkeypatch.delenv("SOUNDSCRIPTER_API_KEY", raising=False)
    status, _, err = run(capsys, url, "list")
    assert status == 1
    assert err[0].startswith("error: unauthorized: ")
    status, _, err = run(capsys, url, "--api-key", "not-a-key", "list")
    assert status == 1
    assert err[0].startswith("error: unauthorized: ")
    assert run(capsys, url, "--api-key", KEY, "list")[0] == 0
    monkeypatch.setenv("SOUNDSCRIPTER_API_KEY", KEY)
    assert run(capsys, url, "list")[0] == 0


def test_watch_carries_on_when_the_api_restarts(
    migrated_db: str, run_dir: Path, speech_file: Callable[..., Path], tmp_path: Path
) -> None:
    """The event stream breaks with the API; the client opens it again from where it was and
    sees the job to its end, each event once."""
    long_text = " ".join(WORDS.format(n=n) for n in ("three", "seven", "eleven", "twenty"))
    clip = tmp_path / "restart.wav"  # about a minute: several events, over some seconds
    shutil.copy(speech_file(long_text * 3), clip)
    with private_platform(run_dir / "cli-restart") as platform:
        response = platform.upload(clip)
        assert response.status_code == 202, response.text
        job_id = response.json()["items"][0]["id"]
        watcher = subprocess.Popen(
            [str(SCRIPT), "--url", platform.base_url, "watch", job_id],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert watcher.stdout is not None
            first = watcher.stdout.readline()  # the stream is open: the job's first state
            assert first.startswith("restart.wav: "), first
            platform.processes["api"].stop()
            platform.start_api()
            platform.wait_ready()
            out, _ = watcher.communicate(timeout=300)
        finally:
            watcher.kill()
        lines = [first.rstrip("\n"), *out.splitlines()]
        assert watcher.returncode == 0, lines
        assert any(line.startswith("(stream_lost") for line in lines), lines
        ends = [line for line in lines if line.startswith("restart.wav: completed")]
        assert len(ends) == 1, lines
        assert lines[-1] == ends[0]
        assert platform.get(job_id)["status"] == "completed"

"""The `soundscripter` console script in a real terminal (a tmux pane) against the platform.

The pane is read as a person sees it (`tmux capture-pane`): bars appear, fill and finish;
`--wait` exits 0 when every file completed and non-zero with one bad file; Ctrl+C stops the
uploads and leaves accepted jobs running. With UPDATE_SCREENSHOTS=1 the run's pane, colours
and all, is saved as docs/screenshots/cli-submit.svg.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import media
from tests.support.platform import Platform
from tests.support.proxy import TcpProxy
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

SCRIPT = Path(sys.executable).parent / "soundscripter"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "cli-submit.svg"
BAR = "━"
WIDTH, HEIGHT = 118, 24
TEXT = (
    "The committee met on {day} morning to review the budget for the coming year. Several "
    "members asked how the new library would be paid for, and the treasurer explained that a "
    "grant from the state would cover most of the cost."
)


class Terminal:
    """A tmux server of its own, running one command in a pane of a fixed size."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.socket = folder / "tmux.sock"
        self.exit_file = folder / "exit-status"
        self.screens: list[str] = []
        """Every screen read so far (plain text, wrapped lines joined), oldest first."""
        self.coloured: list[str] = []
        """The same screens with their colours (ANSI escapes)."""

    def _tmux(self, *args: str) -> str:
        command = [shutil.which("tmux") or "tmux", "-S", str(self.socket), "-f", "/dev/null"]
        done = subprocess.run([*command, *args], check=True, capture_output=True, text=True)
        return done.stdout

    def run(self, args: list[str], env: dict[str, str]) -> None:
        # Only `env` and the terminal's own TERM: nothing of the test run's environment (its
        # COLUMNS, say) reaches the command.
        assigned = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        script = self.folder / "run.sh"
        script.write_text(
            f"cd {shlex.quote(str(self.folder))}\n"
            f'env -i TERM="$TERM" {assigned} {shlex.join([str(SCRIPT), *args])}\n'
            f"echo $? > {self.exit_file}.part && mv {self.exit_file}.part {self.exit_file}\n"
            "exec sleep 600\n"
        )
        self._tmux(
            "new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT), f"bash {script}"
        )  # fmt: skip

    def screen(self) -> str:
        self.screens.append(self._tmux("capture-pane", "-p", "-J"))
        self.coloured.append(self._tmux("capture-pane", "-p", "-e"))
        return self.screens[-1]

    def press(self, *keys: str) -> None:
        self._tmux("send-keys", *keys)

    def watch_until_exit(self, timeout: float = 240) -> int:
        """Read the screen every 0.1 s until the command ends; its exit status."""

        def ended() -> bool:
            self.screen()
            return self.exit_file.exists()

        wait_until(ended, timeout, 0.1, "the command to end")
        self.screen()
        return int(self.exit_file.read_text())

    def close(self) -> None:
        subprocess.run(
            [shutil.which("tmux") or "tmux", "-S", str(self.socket), "kill-server"],
            capture_output=True,
            check=False,
        )


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (`make test` installs it)")
    assert SCRIPT.exists(), f"{SCRIPT} is missing: `make deps` installs the project"
    pane = Terminal(tmp_path)
    try:
        yield pane
    finally:
        pane.close()


def client_env(url: str) -> dict[str, str]:
    return {"SOUNDSCRIPTER_URL": url, "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}


def clip(speech_file: Callable[..., Path], tag: str, folder: Path) -> Path:
    """A recording no other test uploads (so no job of the run is a copy of it)."""
    return media.unique_copy(speech_file(TEXT.format(day=tag)), folder / f"{tag}.wav")


def rows(screen: str, name: str) -> list[str]:
    """The lines of the pane about `name`: its upload row and the transcription row below."""
    lines = screen.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(name + " "):
            return [line, lines[i + 1] if i + 1 < len(lines) else ""]
    return []


def finished(row: str, phase: str) -> bool:
    return phase in row.split() and BAR * 10 in row and "100%" in row.split()


LIVE = {"queued", "processing", "transcribing"}


def live_phases(screen: str, files: list[Path], wanted: set[str] = LIVE) -> set[str]:
    """The phases of the transcription bars on a screen (by default the unfinished ones)."""
    found: set[str] = set()
    for path in files:
        found |= set(dict(enumerate(rows(screen, path.name))).get(1, "").split()) & wanted
    return found


def test_submit_wait_shows_bars_that_fill_and_finish(
    live_platform: Platform, terminal: Terminal, speech_file: Callable[..., Path], tmp_path: Path
) -> None:
    files = [clip(speech_file, name, tmp_path) for name in ("monday", "tuesday", "friday")]
    terminal.run(["submit", *(p.name for p in files), "--wait"], client_env(live_platform.base_url))
    status = terminal.watch_until_exit()
    final = terminal.screens[-1]
    assert status == 0, final

    for path in files:
        upload, transcription = rows(final, path.name)
        assert finished(upload, "uploaded"), final
        assert finished(transcription, "completed"), final
    # The bars were live: some screens showed transcriptions under way.
    under_way = [i for i, screen in enumerate(terminal.screens) if live_phases(screen, files)]
    assert under_way, "no screen showed a transcription in progress"
    ids = re.findall(r"^([0-9a-f-]{36})  completed\s+(\S+)$", final, re.M)
    assert sorted(name for _, name in ids) == sorted(p.name for p in files)
    for job_id, _ in ids:
        assert live_platform.get(job_id)["status"] == "completed"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        # The screen that shows the most kinds of bar at once (finished, running, waiting).
        kinds = LIVE | {"completed"}
        busiest = max(under_way, key=lambda i: len(live_phases(terminal.screens[i], files, kinds)))
        save_screenshot(terminal.coloured[busiest], files)


def save_screenshot(screen: str, files: list[Path]) -> None:
    """A screen of the run, with its colours, as an SVG drawn by rich."""
    from rich.console import Console
    from rich.text import Text

    with open(os.devnull, "w") as sink:
        console = Console(record=True, width=WIDTH, file=sink, force_terminal=True)
        command = f"$ soundscripter submit {' '.join(p.name for p in files)} --wait"
        console.print(Text(command, style="bold"))
        console.print(Text.from_ansi(screen.rstrip()))
        console.save_svg(str(SCREENSHOT), title="soundscripter submit --wait")


def test_one_bad_file_makes_wait_exit_non_zero(
    live_platform: Platform, terminal: Terminal, speech_file: Callable[..., Path], tmp_path: Path
) -> None:
    good = clip(speech_file, "sunday", tmp_path)
    bad = tmp_path / "notes.wav"
    bad.write_text("These are meeting notes, not a recording.\n")
    terminal.run(["submit", good.name, bad.name, "--wait"], client_env(live_platform.base_url))
    status = terminal.watch_until_exit()
    final = terminal.screens[-1]
    assert status == 1, final
    upload, transcription = rows(final, good.name)
    assert finished(upload, "uploaded"), final
    assert finished(transcription, "completed"), final
    refused = rows(final, bad.name)[0]
    assert "refused" in refused.split(), final
    assert "error: unsupported_media:" in refused, final
    assert re.search(r"^-\s+refused\s+notes\.wav$", final, re.M), final


def upload_percent(screen: str, name: str) -> int | None:
    """The percentage on `name`'s upload bar while it is uploading."""
    row = dict(enumerate(rows(screen, name))).get(0, "")
    found = re.search(r" uploading +\S+ +(\d+)%", row)  # the bar is one word: ━━━╸━━━
    return int(found.group(1)) if found else None


def test_ctrl_c_stops_the_uploads_and_leaves_accepted_jobs_running(
    live_platform: Platform, terminal: Terminal, speech_file: Callable[..., Path], tmp_path: Path
) -> None:
    small = clip(speech_file, "saturday", tmp_path)
    big = tmp_path / f"tone{time.time_ns() % 10**8}.wav"  # short: the bar shows whole names
    subprocess.run(
        [media.require("ffmpeg"), "-loglevel", "error", "-f", "lavfi", "-i",
         "sine=frequency=440:duration=600", "-ar", "16000", "-ac", "1", str(big)],
        check=True,
    )  # fmt: skip
    proxy = TcpProxy(live_platform.api_port, upload_rate=1_000_000)
    try:
        terminal.run(["submit", small.name, big.name, "--wait"], client_env(proxy.url))

        under_way: set[int] = set()

        def big_file_moving_half_way() -> bool:
            percent = upload_percent(terminal.screen(), big.name)
            if percent is not None and 5 <= percent <= 90:
                under_way.add(percent)
            return len(under_way) > 1  # seen part way, at two different figures

        try:
            wait_until(big_file_moving_half_way, 60, 0.1, "the second upload to be under way")
        except TimeoutError:
            print(terminal.screens[-1])
            raise
        terminal.press("C-c")
        status = terminal.watch_until_exit(60)
    finally:
        proxy.close()
    final = terminal.screens[-1]
    assert status == 130, final
    # The bar counted bytes as they went: it stood part way, and moved while it did.
    seen = [p for s in terminal.screens if (p := upload_percent(s, big.name)) is not None]
    assert len(set(seen)) > 1, seen
    assert "interrupted: uploads stopped." in final
    went_on = re.search(r"1 accepted job\(s\) go on in the service: ([0-9a-f-]{36})", final)
    assert went_on, final
    assert live_platform.wait_status(went_on.group(1))["status"] == "completed"
    with live_platform.client() as client:
        listed = client.get("/api/transcriptions", params={"q": big.stem}).json()["items"]
    assert listed == [], "the interrupted upload became a job"

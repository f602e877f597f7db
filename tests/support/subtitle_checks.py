"""Reading SRT and WebVTT downloads back, and checking the cue rules of `core.subtitles`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.subtitles import MAX_LINE, MAX_LINES, MAX_SECONDS, MIN_SECONDS

_TIME = r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d)"
_TIMING = re.compile(rf"^{_TIME} --> {_TIME}$")
_VOICE = re.compile(r"^<v [^>]*>")


@dataclass(frozen=True)
class ReadCue:
    start: float
    end: float
    lines: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def _seconds(parts: Sequence[str]) -> float:
    hours, minutes, seconds, millis = (int(p) for p in parts)
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def read_cues(body: str) -> list[ReadCue]:
    """The cues of an SRT or WebVTT file (voice tags dropped, entities kept)."""
    blocks = body.removeprefix("WEBVTT\n").strip().split("\n\n")
    cues = []
    for block in filter(None, blocks):
        lines = block.split("\n")
        if _TIMING.match(lines[0]) is None:
            lines = lines[1:]  # the SRT cue number
        found = _TIMING.match(lines[0])
        assert found is not None, block
        text = [_VOICE.sub("", line, count=1) if n == 0 else line for n, line in enumerate(lines)]
        cues.append(ReadCue(_seconds(found.groups()[:4]), _seconds(found.groups()[4:]), text[1:]))
    return cues


def check_readable(cues: Sequence[ReadCue], segments: Sequence[Any], *, label: str = "") -> None:
    """Every cue within the rules (lines, characters, 1 to 7 s unless the next cue starts
    sooner), in order, and all of them together saying the segments' words (after `label`
    prefixes such as `Name: `)."""
    for number, cue in enumerate(cues):
        assert 1 <= len(cue.lines) <= MAX_LINES, cue
        assert all(0 < len(line) <= MAX_LINE for line in cue.lines), cue
        following = cues[number + 1].start if number + 1 < len(cues) else None
        assert cue.end - cue.start <= MAX_SECONDS + 0.001, cue
        if following is None or following >= cue.start + MIN_SECONDS:
            assert cue.end - cue.start >= MIN_SECONDS - 0.001, cue
        if following is not None:
            assert cue.start <= following, (cue, following)
    said = " ".join(cue.text for cue in cues)
    if label:
        said = re.sub(label, "", said)
    assert (
        said.split()
        == " ".join(str(s["text"] if isinstance(s, dict) else s.text) for s in segments).split()
    )

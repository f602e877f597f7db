"""Who spoke when, and the transcript's segments and words labelled with it.

`Turns` is a sorted list of non-overlapping (start, end, speaker) spans. `from_windows` builds
it from the embedded windows' speakers: inside a speech island the speaker changes halfway
between two windows' centres; an island with no window of its own takes the speaker of the
nearest window. `label` gives every word the speaker it overlaps most (the nearest turn when it
overlaps none) and every segment that of its words; a segment whose words change speaker is
split there, so each piece (each subtitle cue) has one speaker. Speakers are named `S1`, `S2`,
… in order of first appearance (or kept in their given order, for channels).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.events import SegmentOut


@dataclass
class Turns:
    spans: list[tuple[float, float, int]]

    def __post_init__(self) -> None:
        self.spans.sort()
        self._ends = [end for _, end, _ in self.spans]

    def speaker(self, start: float, end: float) -> int | None:
        """The speaker overlapping [start, end] most, else the nearest one."""
        if not self.spans:
            return None
        first = bisect.bisect_right(self._ends, start)
        overlap: dict[int, float] = {}
        for begin, finish, who in self.spans[first:]:
            if begin >= end:
                break
            overlap[who] = overlap.get(who, 0.0) + min(end, finish) - max(start, begin)
        if overlap:
            return max(overlap, key=overlap.__getitem__)
        near = [i for i in (first - 1, first) if 0 <= i < len(self.spans)]
        middle = (start + end) / 2

        def distance(i: int) -> float:
            begin, finish, _ = self.spans[i]
            return max(begin - middle, middle - finish, 0.0)

        return self.spans[min(near, key=distance)][2]


def _smoothed(labels: list[int]) -> list[int]:
    """A single window that differs from both neighbours, which agree, takes their speaker."""
    out = list(labels)
    for i in range(1, len(labels) - 1):
        if labels[i - 1] == labels[i + 1] != labels[i]:
            out[i] = labels[i - 1]
    return out


def from_windows(
    islands: Sequence[tuple[float, float]],
    spans: Sequence[tuple[float, float]],
    labels: Sequence[int],
) -> Turns:
    centres = [(a + b) / 2 for a, b in spans]
    order = sorted(range(len(centres)), key=centres.__getitem__)
    centres = [centres[i] for i in order]
    labels = [int(labels[i]) for i in order]
    turns: list[tuple[float, float, int]] = []
    if not centres:
        return Turns(turns)
    half = (spans[0][1] - spans[0][0]) / 2 if spans else 0.8
    for start, end in islands:
        low = bisect.bisect_left(centres, start - half)
        high = bisect.bisect_right(centres, end + half)
        inside = [
            i for i in range(low, high) if start <= centres[i] <= end or end - start < 2 * half
        ]
        if not inside:
            nearest = min(range(len(centres)), key=lambda i: abs(centres[i] - (start + end) / 2))
            turns.append((start, end, labels[nearest]))
            continue
        who = _smoothed([labels[i] for i in inside])
        begin = start
        for k in range(1, len(inside)):
            if who[k] != who[k - 1]:
                cut = (centres[inside[k - 1]] + centres[inside[k]]) / 2
                turns.append((begin, cut, who[k - 1]))
                begin = cut
        turns.append((begin, end, who[-1]))
    return Turns(turns)


def _piece(
    segment: SegmentOut, words: list[dict[str, Any]], who: int, first: bool, last: bool
) -> dict[str, Any]:
    return {
        "start": segment.start if first else words[0]["start"],
        "end": segment.end if last else words[-1]["end"],
        "text": segment.text if first and last else "".join(w["word"] for w in words),
        "words": words,
        "speaker": who,
    }


def _pieces(segment: SegmentOut, turns: Turns) -> list[dict[str, Any]]:
    words = [dict(w) for w in segment.words or []]
    if not words:
        return [{**segment.model_dump(), "speaker": turns.speaker(segment.start, segment.end)}]
    for word in words:
        word["speaker"] = turns.speaker(word["start"], word["end"])
    runs: list[list[dict[str, Any]]] = [[words[0]]]
    for word in words[1:]:
        if word["speaker"] == runs[-1][-1]["speaker"]:
            runs[-1].append(word)
        else:
            runs.append([word])
    return [
        _piece(segment, run, run[0]["speaker"], n == 0, n == len(runs) - 1)
        for n, run in enumerate(runs)
    ]


def label(
    segments: Sequence[SegmentOut],
    turns: Turns,
    *,
    keep_words: bool,
    in_order: bool = False,
) -> tuple[list[SegmentOut], list[str]]:
    """The segments labelled (and split at changes of speaker), renumbered from 0, and the
    speaker ids that occur. `in_order`: speaker n is `S<n+1>` (channels), not by appearance."""
    names: dict[int, str] = {}

    def name(who: int | None) -> str | None:
        if who is None:
            return None
        if who not in names:
            names[who] = f"S{who + 1}" if in_order else f"S{len(names) + 1}"
        return names[who]

    out: list[SegmentOut] = []
    for segment in segments:
        for piece in _pieces(segment, turns):
            words = piece.pop("words")
            if words is not None:
                for word in words:
                    word["speaker"] = name(word.get("speaker"))
            piece["speaker"] = name(piece["speaker"])
            fields = {**segment.model_dump(), **piece, "index": len(out)}
            fields["words"] = words if keep_words else None
            out.append(SegmentOut(**fields))
    return out, sorted(names.values(), key=lambda s: int(s[1:]))

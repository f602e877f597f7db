"""Transcript renderings: txt, srt, vtt, json, tsv, csv.

SRT and WebVTT are cut into readable cues (`core.subtitles`: at most two lines of 42
characters, 1 to 7 s each); txt has a line per segment; json, tsv and csv keep the segments
as they are.

With speaker labels every format shows each segment's speaker by its display name (the
transcription's `speakers` in `meta`, renamed with PATCH): a `Name: ` prefix in txt and srt, a
WebVTT voice tag `<v Name>`, a `speaker` field in json (with the id as `speaker_id`), a
`speaker` column in tsv and csv.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from core import subtitles
from core.speakers import display_name


class SegmentLike(Protocol):
    index: int
    start: float
    end: float
    text: str


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _speaker(segment: SegmentLike, meta: dict[str, Any]) -> str | None:
    return display_name(getattr(segment, "speaker", None), meta.get("speakers"))


def _said(segment: SegmentLike, meta: dict[str, Any]) -> str:
    """The text with a `Name: ` prefix when the segment has a speaker."""
    name = _speaker(segment, meta)
    text = segment.text.strip()
    return f"{name}: {text}" if name else text


def _escaped(text: str) -> str:
    """WebVTT cue text: `&`, `<` and `>` escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_txt(segments: Sequence[SegmentLike], meta: dict[str, Any]) -> str:
    lines = [_said(s, meta) for s in segments if s.text.strip()]
    return "\n".join(lines) + ("\n" if lines else "")


def to_srt(segments: Sequence[SegmentLike], meta: dict[str, Any]) -> str:
    """Readable cues (`core.subtitles`); `Name: ` where the speaker changes."""
    cues = subtitles.cues(segments, meta.get("speakers"), label_turns=True)
    blocks = [
        f"{n}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n" + "\n".join(c.lines) + "\n"
        for n, c in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def to_vtt(segments: Sequence[SegmentLike], meta: dict[str, Any]) -> str:
    """Readable cues (`core.subtitles`), each with its speaker's voice tag `<v Name>`."""
    blocks = []
    for c in subtitles.cues(segments, meta.get("speakers")):
        voice = f"<v {_escaped(c.speaker)}>" if c.speaker else ""
        text = "\n".join(_escaped(line) for line in c.lines)
        blocks.append(f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n{voice}{text}\n")
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_tsv(segments: Sequence[SegmentLike], meta: dict[str, Any]) -> str:
    named = any(getattr(s, "speaker", None) for s in segments)
    rows = ["start\tend\tspeaker\ttext" if named else "start\tend\ttext"]
    for s in segments:
        text = " ".join(s.text.split())
        speaker = " ".join((_speaker(s, meta) or "").split())
        cells = [str(round(s.start * 1000)), str(round(s.end * 1000))]
        rows.append("\t".join([*cells, *([speaker] if named else []), text]))
    return "\n".join(rows) + "\n"


def to_csv(segments: Sequence[SegmentLike], meta: dict[str, Any]) -> str:
    """RFC 4180: a header row, CRLF line ends, a field quoted when it holds a comma, a quote or
    a line break (quotes doubled). Times in seconds; `speaker` is empty until a segment has
    one (its display name)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["start", "end", "speaker", "text"])
    for s in segments:
        speaker = _speaker(s, meta)
        writer.writerow(
            [f"{s.start:.3f}", f"{s.end:.3f}", "" if speaker is None else speaker, s.text.strip()]
        )
    return out.getvalue()


def _json_speaker(segment: SegmentLike, meta: dict[str, Any]) -> dict[str, Any]:
    speaker = getattr(segment, "speaker", None)
    if speaker is None:
        return {}
    return {"speaker": _speaker(segment, meta), "speaker_id": speaker}


def to_json(segments: Sequence[SegmentLike], meta: dict[str, Any]) -> str:
    body = dict(meta)
    body["segments"] = [
        {
            "index": s.index,
            "start": s.start,
            "end": s.end,
            "text": s.text,
            **_json_speaker(s, meta),
            **({"words": words} if (words := getattr(s, "words", None)) else {}),
        }
        for s in segments
    ]
    return json.dumps(body, ensure_ascii=False, indent=2, default=str) + "\n"


Renderer = Callable[[Sequence[SegmentLike], dict[str, Any]], str]

FORMATS: dict[str, tuple[Renderer, str]] = {
    "txt": (to_txt, "text/plain; charset=utf-8"),
    "srt": (to_srt, "application/x-subrip; charset=utf-8"),
    "vtt": (to_vtt, "text/vtt; charset=utf-8"),
    "tsv": (to_tsv, "text/tab-separated-values; charset=utf-8"),
    "json": (to_json, "application/json"),
    "csv": (to_csv, "text/csv; charset=utf-8; header=present"),
}

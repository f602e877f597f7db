"""Transcript renderings: txt, srt, vtt, json, tsv."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol


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


def to_txt(segments: Sequence[SegmentLike], meta: dict[str, Any]) -> str:
    return "\n".join(s.text.strip() for s in segments) + ("\n" if segments else "")


def to_srt(segments: Sequence[SegmentLike], meta: dict[str, Any]) -> str:
    blocks = [
        f"{n}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{s.text.strip()}\n"
        for n, s in enumerate(segments, start=1)
    ]
    return "\n".join(blocks)


def to_vtt(segments: Sequence[SegmentLike], meta: dict[str, Any]) -> str:
    blocks = [
        f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n{s.text.strip()}\n" for s in segments
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_tsv(segments: Sequence[SegmentLike], meta: dict[str, Any]) -> str:
    rows = ["start\tend\ttext"]
    for s in segments:
        text = " ".join(s.text.split())
        rows.append(f"{round(s.start * 1000)}\t{round(s.end * 1000)}\t{text}")
    return "\n".join(rows) + "\n"


def to_json(segments: Sequence[SegmentLike], meta: dict[str, Any]) -> str:
    body = dict(meta)
    body["segments"] = [
        {
            "index": s.index,
            "start": s.start,
            "end": s.end,
            "text": s.text,
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
}

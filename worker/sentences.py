"""Sentence-sized segments from chunked decoding.

Chunked decoding (faster-whisper's batched pipeline) returns one segment per voice-activity
chunk of up to 30 s, with no timestamps inside it. Subtitles and the transcript view want
pieces a reader can follow, so each chunk's text is split at sentence ends, and a sentence
longer than `MAX_CHARS` at clause ends, then between words. A piece's times come from its
words when word timestamps were decoded; otherwise the chunk's span is shared out in
proportion to the pieces' lengths, so those times are estimates (the job option
`precise_timestamps` decodes Whisper's own segment timestamps instead).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

MAX_CHARS = 90

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+")


def _pack(parts: list[str], limit: int, separator: str = " ") -> list[str]:
    """Join consecutive parts into pieces of at most `limit` characters (a longer part stays)."""
    pieces: list[str] = []
    for part in parts:
        if pieces and len(pieces[-1]) + len(separator) + len(part) <= limit:
            pieces[-1] += separator + part
        else:
            pieces.append(part)
    return pieces


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """The pieces of a chunk's text: sentences, long ones cut at clauses, then between words."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        if len(sentence) <= limit:
            pieces.append(sentence)
            continue
        for clause in _pack(_CLAUSE_END.split(sentence), limit):
            pieces.extend(_pack(clause.split(), limit) if len(clause) > limit else [clause])
    return [piece for piece in pieces if piece]


@dataclass(frozen=True)
class Piece:
    """A segment as the pipeline reads one (`start`, `end`, `text`, `words`)."""

    start: float
    end: float
    text: str
    words: list[Any] | None = None


def _by_length(segment: Any, texts: list[str]) -> list[Piece]:
    weights = [len(text) + 1 for text in texts]
    total = sum(weights)
    span = segment.end - segment.start
    pieces, done = [], 0
    for text, weight in zip(texts, weights, strict=True):
        start = segment.start + span * done / total
        done += weight
        end = segment.start + span * done / total
        pieces.append(Piece(round(start, 3), round(end, 3), " " + text))
    return pieces


def _by_words(segment: Any, texts: list[str]) -> list[Piece] | None:
    """Pieces timed by their words, or None when the words do not line up with the text."""
    counts = [len(text.split()) for text in texts]
    if sum(counts) != len(segment.words):
        return None
    pieces, first = [], 0
    for text, count in zip(texts, counts, strict=True):
        words = segment.words[first : first + count]
        first += count
        pieces.append(Piece(words[0].start, words[-1].end, " " + text, list(words)))
    return pieces


def split_segment(segment: Any, limit: int = MAX_CHARS) -> list[Any]:
    """`segment` cut into sentence-sized pieces; itself when it is short enough already."""
    texts = split_text(segment.text, limit)
    if len(texts) <= 1:
        return [segment]
    pieces = _by_words(segment, texts) if segment.words else _by_length(segment, texts)
    if pieces is None:
        return [segment]
    return [replace(segment, start=p.start, end=p.end, text=p.text, words=p.words) for p in pieces]


def sentences(segments: Iterable[Any], limit: int = MAX_CHARS) -> Iterator[Any]:
    for segment in segments:
        yield from split_segment(segment, limit)

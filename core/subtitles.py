"""Subtitle cues people can read: the SRT and WebVTT downloads are cut from the segments.

A recognised segment can run 30 s and 300 characters, more than a viewer reads in one go, so
each segment is cut into cues of at most `MAX_LINES` lines of `MAX_LINE` characters, shown for
at most `MAX_SECONDS`. A cue ends preferably where a sentence ends (as soon as it has been on
screen `MIN_SECONDS`), else at the last clause end (a comma, semicolon, colon or dash) that
keeps at least half of what fits, else after the last word that fits. A segment's end always
ends a cue. Times come from the segment's word timestamps when it has them; otherwise the
segment's span is shared out in proportion to the words' lengths (estimates, so such a
segment is cut by characters alone, and a cue longer than `MAX_SECONDS` is shortened: the
words of a segment stretched over a silence are not spread across it).

A cue shorter than `MIN_SECONDS` is joined with the next one of the same speaker when that
starts within the second and both fit together; otherwise it is lengthened to `MIN_SECONDS`,
or up to where the next cue starts when that is sooner. A word longer than a line is cut.
Lines are balanced: the break between the two lines is the one that makes the longer line
shortest, a break after a punctuation mark counting `PUNCTUATION_BONUS` characters shorter.
The JSON, TSV and CSV downloads keep the segments as recognised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.speakers import display_name

MAX_LINE = 42
MAX_LINES = 2
MIN_SECONDS = 1.0
MAX_SECONDS = 7.0
PUNCTUATION_BONUS = 6

_CLOSERS = "\"'\u201d\u2019\u00bb)]}"
"""Closing quotes and brackets, which may follow the punctuation that ends a sentence."""
_SENTENCE = re.compile(rf"[.!?\u2026\u3002\uff01\uff1f][{re.escape(_CLOSERS)}]*$")
"""Ends a sentence: . ! ? and the ellipsis, and their full-width (CJK) forms."""
_CLAUSE = re.compile(rf"[,;:\uff0c\u3001\uff1b\uff1a\u2014\u2013][{re.escape(_CLOSERS)}]*$")
"""Ends a clause: , ; : their full-width forms, the ideographic comma, em and en dashes."""


def ends_sentence(word: str) -> bool:
    return bool(_SENTENCE.search(word))


def ends_clause(word: str) -> bool:
    return bool(_CLAUSE.search(word)) or word == "-"


@dataclass
class Token:
    text: str
    start: float
    end: float
    timed: bool = True
    """Its times are the recogniser's (word timestamps), not shares of its segment's span."""


@dataclass
class Cue:
    start: float
    end: float
    tokens: list[Token]
    speaker: str | None = None
    """The speaker's display name, if the segments have speakers."""
    lines: list[str] = field(default_factory=list)


def wrap(words: Sequence[str]) -> list[str] | None:
    """The words on at most MAX_LINES (two) balanced lines of MAX_LINE characters; None if
    they do not fit."""
    line = " ".join(words)
    if len(line) <= MAX_LINE:
        return [line]
    best: tuple[int, list[str]] | None = None
    for cut in range(1, len(words)):
        top, bottom = " ".join(words[:cut]), " ".join(words[cut:])
        if len(top) > MAX_LINE or len(bottom) > MAX_LINE:
            continue
        word = words[cut - 1]
        bonus = PUNCTUATION_BONUS if ends_sentence(word) or ends_clause(word) else 0
        score = max(len(top), len(bottom)) - bonus
        if best is None or score < best[0]:
            best = (score, [top, bottom])
    return None if best is None else best[1]


def _fits(tokens: Sequence[Token]) -> bool:
    if len(tokens) == 1:
        return True
    if tokens[0].timed and tokens[-1].end - tokens[0].start > MAX_SECONDS:
        return False
    return wrap([t.text for t in tokens]) is not None


def _chunks(text: str) -> list[str]:
    return [text[i : i + MAX_LINE] for i in range(0, len(text), MAX_LINE)] or [text]


def _spread(texts: Sequence[str], start: float, end: float, timed: bool) -> list[Token]:
    """Tokens for `texts` sharing `start`..`end` in proportion to their lengths."""
    weights = [len(text) + 1 for text in texts]
    total, done, tokens = sum(weights), 0, []
    for text, weight in zip(texts, weights, strict=True):
        first = start + (end - start) * done / total
        done += weight
        tokens.append(Token(text, first, start + (end - start) * done / total, timed))
    return tokens


def _word_tokens(words: Sequence[dict[str, Any]], start: float, end: float) -> list[Token]:
    tokens: list[Token] = []
    for word in words:
        text = str(word.get("word", "")).strip()
        if not text:
            continue
        first = max(float(word.get("start", start)), tokens[-1].start if tokens else start)
        last = min(max(float(word.get("end", first)), first), max(end, first))
        tokens.extend(_spread(_chunks(text), first, last, timed=True))
    return tokens


def tokens_of(segment: Any) -> list[Token]:
    """The segment's words with their times (from its word timestamps when they spell its
    text, else shared out); a word longer than a line is cut into line-long pieces."""
    text = " ".join(str(segment.text).split())
    words = getattr(segment, "words", None) or []
    spelled = " ".join(str(w.get("word", "")).strip() for w in words if str(w.get("word", "")))
    if words and " ".join(spelled.split()) == text:
        return _word_tokens(words, segment.start, segment.end)
    pieces = [chunk for word in text.split() for chunk in _chunks(word)]
    return _spread(pieces, segment.start, max(segment.end, segment.start), timed=False)


def _characters(tokens: Sequence[Token]) -> int:
    return len(" ".join(t.text for t in tokens))


def _cut(tokens: Sequence[Token], last: int) -> int:
    """Where the cue starting at tokens[0], which can hold tokens[0..last], ends."""
    for k in range(last):
        if ends_sentence(tokens[k].text) and tokens[k].end - tokens[0].start >= MIN_SECONDS:
            return k
    if last == len(tokens) - 1:
        return last
    half = _characters(tokens[: last + 1]) / 2
    for ends in (ends_sentence, ends_clause):
        for k in range(last, -1, -1):
            if ends(tokens[k].text) and _characters(tokens[: k + 1]) >= half:
                return k
    return last


def _split(tokens: list[Token]) -> list[list[Token]]:
    groups = []
    while tokens:
        last = 0
        while last + 1 < len(tokens) and _fits(tokens[: last + 2]):
            last += 1
        end = _cut(tokens, last)
        groups.append(tokens[: end + 1])
        tokens = tokens[end + 1 :]
    return groups


def _join_short(cues: list[Cue]) -> list[Cue]:
    """A cue under MIN_SECONDS joined with the next one of its speaker when that starts
    within MIN_SECONDS of it and both fit in one cue."""
    joined: list[Cue] = []
    for cue in cues:
        before = joined[-1] if joined else None
        if (
            before is not None
            and before.end - before.start < MIN_SECONDS
            and cue.start < before.start + MIN_SECONDS
            and cue.speaker == before.speaker
            and _fits(before.tokens + cue.tokens)
        ):
            joined[-1] = Cue(before.start, cue.end, before.tokens + cue.tokens, cue.speaker)
        else:
            joined.append(cue)
    return joined


def _timed(cues: list[Cue]) -> list[Cue]:
    """Each cue at least MIN_SECONDS (not past the next cue's start) and at most MAX_SECONDS."""
    for number, cue in enumerate(cues):
        following = cues[number + 1].start if number + 1 < len(cues) else None
        if cue.end - cue.start < MIN_SECONDS:
            longest = cue.start + MIN_SECONDS
            cue.end = max(cue.end, longest if following is None else min(longest, following))
        cue.end = min(cue.end, cue.start + MAX_SECONDS)
        cue.lines = wrap([t.text for t in cue.tokens]) or [t.text for t in cue.tokens]
    return cues


def cues(
    segments: Sequence[Any], names: Mapping[str, str] | None = None, *, label_turns: bool = False
) -> list[Cue]:
    """The cues of a transcript. With `label_turns` (SRT), a cue where the speaker changes
    starts with `Name: ` (counted in its line); WebVTT names every cue's voice instead."""
    found: list[Cue] = []
    speaking: str | None = None
    for segment in segments:
        tokens = tokens_of(segment)
        if not tokens:
            continue
        name = display_name(getattr(segment, "speaker", None), names)
        if label_turns and name and name != speaking:
            first = tokens[0]
            tokens[0] = Token(f"{name}: {first.text}", first.start, first.end, first.timed)
        speaking = name
        for group in _split(tokens):
            found.append(Cue(group[0].start, group[-1].end, group, name))
    return _timed(_join_short(found))

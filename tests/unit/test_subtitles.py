"""Readable subtitle cues (`core.subtitles`) and the SRT/WebVTT files made of them."""

from __future__ import annotations

import pytest

from core import subtitles
from core.events import SegmentOut
from core.subtitles import MAX_LINE, MAX_SECONDS, MIN_SECONDS, cues, wrap
from core.transcripts import to_json, to_srt, to_vtt
from tests.support.subtitle_checks import check_readable, read_cues

pytestmark = pytest.mark.unit

TWO_SENTENCES = (
    " The quarterly budget was approved by the whole board this morning."
    " Hiring for the new support team starts in the second week of March."
)
LONG_SENTENCE = (
    " When the storm reached the coast late on Tuesday evening, the harbour master closed"
    " every pier, and the ferries stayed in port until the wind had dropped below gale force"
)


def _segment(index: int, start: float, end: float, text: str, **extra: object) -> SegmentOut:
    return SegmentOut(index=index, start=start, end=end, text=text, **extra)  # type: ignore[arg-type]


def _words(text: str, start: float, step: float) -> list[dict[str, object]]:
    return [
        {"word": f" {word}", "start": start + n * step, "end": start + (n + 1) * step - 0.05}
        for n, word in enumerate(text.split())
    ]


def test_a_long_segment_becomes_cues_within_the_rules() -> None:
    segments = [_segment(0, 0.0, 11.0, TWO_SENTENCES), _segment(1, 12.0, 26.0, LONG_SENTENCE)]
    found = read_cues(to_srt(segments, {}))
    assert len(found) > 2
    check_readable(found, segments)
    assert all(len(line) <= MAX_LINE for cue in found for line in cue.lines)


def test_cues_end_where_sentences_end() -> None:
    found = cues([_segment(0, 0.0, 11.0, TWO_SENTENCES)])
    texts = [" ".join(c.lines) for c in found]
    assert any(text.endswith("this morning.") for text in texts), texts
    assert all(not text.startswith("morning") for text in texts)


def test_a_sentence_too_long_for_one_cue_is_cut_at_a_clause() -> None:
    found = cues([_segment(0, 0.0, 14.0, LONG_SENTENCE)])
    texts = [" ".join(c.lines) for c in found]
    assert texts[0].endswith(","), texts
    assert " ".join(texts).split() == LONG_SENTENCE.split()


def test_word_timestamps_give_the_cue_times() -> None:
    words = _words(TWO_SENTENCES, 3.0, 0.4)
    found = cues([_segment(0, 3.0, 3.0 + 0.4 * len(words), TWO_SENTENCES, words=words)])
    first_words = len(found[0].tokens)
    assert found[0].start == pytest.approx(3.0)
    assert found[0].end == pytest.approx(3.0 + 0.4 * first_words - 0.05)
    assert found[1].start == pytest.approx(3.0 + 0.4 * first_words)


def test_words_that_no_longer_spell_the_text_are_not_used() -> None:
    words = _words(" Hello there friend.", 0.0, 0.5)
    edited = _segment(0, 0.0, 4.0, " Hello there, my friend.", words=words)
    found = cues([edited])
    assert " ".join(found[0].lines) == "Hello there, my friend."
    assert found[0].end == pytest.approx(4.0)


def test_short_cues_of_one_speaker_are_joined() -> None:
    segments = [
        _segment(0, 10.0, 10.3, " Yes.", speaker="S1"),
        _segment(1, 10.5, 10.8, " Okay.", speaker="S1"),
    ]
    [joined] = cues(segments)
    assert joined.lines == ["Yes. Okay."]
    assert joined.end - joined.start >= MIN_SECONDS


def test_a_short_cue_is_lengthened_but_not_over_the_next_one() -> None:
    segments = [
        _segment(0, 10.0, 10.3, " Yes.", speaker="S1"),
        _segment(1, 10.6, 10.9, " No.", speaker="S2"),
        _segment(2, 20.0, 20.2, " Fine.", speaker="S2"),
    ]
    first, second, third = cues(segments)
    assert first.end == pytest.approx(10.6)
    assert second.end == pytest.approx(11.6)
    assert third.end - third.start == pytest.approx(MIN_SECONDS)


def test_no_cue_lasts_longer_than_the_maximum() -> None:
    text = " Well, we waited a very long time."
    [estimated] = cues([_segment(0, 0.0, 30.0, text)])
    assert (estimated.start, estimated.end) == (0.0, MAX_SECONDS)
    words = _words(text, 0.0, 2.5)
    timed = cues([_segment(0, 0.0, 17.5, text, words=words)])
    assert len(timed) >= 3  # 17.5 s of words
    assert all(c.end - c.start <= MAX_SECONDS for c in timed)
    assert " ".join(" ".join(c.lines) for c in timed) == text.strip()


def test_a_word_longer_than_a_line_is_cut() -> None:
    url = "https://example.org/" + "a" * 70
    found = cues([_segment(0, 0.0, 5.0, f" See {url} now.")])
    lines = [line for c in found for line in c.lines]
    assert all(len(line) <= MAX_LINE for line in lines)
    assert "".join(lines).replace(" ", "") == f"See{url}now."


def test_lines_are_balanced_and_prefer_punctuation() -> None:
    assert wrap(["short", "line"]) == ["short line"]
    words = "the quick brown fox jumps over the lazy dog near the river bank"
    top, bottom = wrap(words.split()) or ["", "x" * 99]
    assert abs(len(top) - len(bottom)) <= 6
    punctuated = "We met on Monday, then worked through the whole week"
    assert wrap(punctuated.split()) == [
        "We met on Monday,",
        "then worked through the whole week",
    ]
    assert wrap(["x" * 40, "y" * 40, "z" * 10]) is None


def test_srt_names_the_speaker_where_the_turn_changes_and_vtt_every_cue() -> None:
    segments = [
        _segment(0, 0.0, 9.0, TWO_SENTENCES, speaker="S1"),
        _segment(1, 9.5, 11.0, " Agreed.", speaker="S2"),
    ]
    names = {"speakers": {"S1": "Alice", "S2": "Bob <Ops>"}}
    srt = read_cues(to_srt(segments, names))
    assert srt[0].lines[0].startswith("Alice: ")
    assert not any(cue.text.startswith("Alice") for cue in srt[1:])
    assert srt[-1].text == "Bob <Ops>: Agreed."
    check_readable(srt, segments, label=r"(Alice|Bob <Ops>): ")
    vtt = to_vtt(segments, names)
    assert vtt.count("<v Alice>") == len(srt) - 1
    assert "<v Bob &lt;Ops&gt;>Agreed." in vtt


def test_empty_segments_make_no_cue_and_json_keeps_the_segments() -> None:
    segments = [
        _segment(0, 0.0, 2.0, " First."),
        _segment(1, 2.0, 3.0, ""),
        _segment(2, 3.0, 40.0, LONG_SENTENCE),
    ]
    assert cues(segments)[0].lines == ["First."]
    assert "\n\n\n" not in to_srt(segments, {})
    raw = to_json(segments, {})
    assert LONG_SENTENCE in raw.replace("\\n", "\n")
    assert subtitles.tokens_of(segments[1]) == []

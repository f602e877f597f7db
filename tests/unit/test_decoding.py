"""Decoding modes and the sentence split of chunked segments."""

from __future__ import annotations

import itertools

import pytest
from faster_whisper.transcribe import Segment, Word

from core.options import JobOptions
from core.settings import Settings
from worker.sentences import MAX_CHARS, sentences, split_text
from worker.transcriber import chunked, decode_options

pytestmark = pytest.mark.unit

CHUNK_TEXT = (
    " The finance team prepared the quarterly report before the meeting on Friday."
    " Our new neighbour repaired the old bicycle! Did every volunteer count the boxes twice?"
)


def segment(start: float, end: float, text: str, words: list[Word] | None = None) -> Segment:
    return Segment(
        id=1,
        seek=0,
        start=start,
        end=end,
        text=text,
        tokens=[1, 2, 3],
        avg_logprob=-0.2,
        compression_ratio=1.3,
        no_speech_prob=0.01,
        words=words,
        temperature=0.0,
    )


def test_chunked_is_the_default_and_precise_is_per_job_or_global() -> None:
    settings = Settings()
    assert settings.whisper_batch_size > 0
    chunk = decode_options(JobOptions(requested_language="en", model="tiny.en"), settings)
    assert chunk["without_timestamps"] is True
    assert chunk["vad_filter"] is True
    assert chunk["condition_on_previous_text"] is False
    assert chunk["batch_size"] == settings.whisper_batch_size

    precise = JobOptions(requested_language="en", model="tiny.en", precise_timestamps=True)
    assert not chunked(precise, settings)
    pinned = decode_options(precise, settings)
    assert pinned["without_timestamps"] is False
    assert pinned["vad_filter"] is False
    assert pinned["condition_on_previous_text"] is True
    assert "batch_size" not in pinned

    sequential = Settings(whisper_batch_size=0)
    assert not chunked(JobOptions(model="tiny.en"), sequential)
    assert decode_options(JobOptions(model="tiny.en", vad=True), sequential)["vad_filter"] is True


def test_split_text_at_sentences_then_clauses_then_words() -> None:
    assert split_text(CHUNK_TEXT) == [
        "The finance team prepared the quarterly report before the meeting on Friday.",
        "Our new neighbour repaired the old bicycle!",
        "Did every volunteer count the boxes twice?",
    ]
    long_sentence = ", ".join(["the kitchen staff cleaned the windows"] * 6) + "."
    pieces = split_text(long_sentence)
    assert len(pieces) > 1
    assert all(len(piece) <= MAX_CHARS for piece in pieces)
    assert " ".join(pieces) == long_sentence
    no_punctuation = " ".join(["word"] * 100)
    pieces = split_text(no_punctuation)
    assert all(len(piece) <= MAX_CHARS for piece in pieces)
    assert " ".join(pieces) == no_punctuation
    assert split_text("   ") == []


def test_pieces_share_the_chunk_span_by_length() -> None:
    pieces = list(sentences([segment(10.0, 40.0, CHUNK_TEXT)]))
    assert [p.text for p in pieces] == [" " + t for t in split_text(CHUNK_TEXT)]
    assert pieces[0].start == 10.0
    assert pieces[-1].end == 40.0
    for before, after in itertools.pairwise(pieces):
        assert before.end == after.start
    lengths = [p.end - p.start for p in pieces]
    assert lengths[0] > lengths[1]  # the longest sentence gets the longest share
    assert "".join(p.text for p in pieces) == CHUNK_TEXT
    assert all(p.tokens == [1, 2, 3] for p in pieces)


def test_pieces_take_their_times_from_words_when_decoded() -> None:
    text = " Hello there. How are you?"
    words = [
        Word(0.5, 0.9, " Hello", 0.9),
        Word(1.0, 1.4, " there.", 0.9),
        Word(3.0, 3.2, " How", 0.9),
        Word(3.2, 3.4, " are", 0.9),
        Word(3.4, 3.9, " you?", 0.9),
    ]
    first, second = sentences([segment(0.0, 4.0, text, words)], limit=12)
    assert (first.start, first.end, first.text) == (0.5, 1.4, " Hello there.")
    assert first.words == words[:2]
    assert (second.start, second.end, second.text) == (3.0, 3.9, " How are you?")
    assert second.words == words[2:]


def test_short_or_misaligned_segments_stay_whole() -> None:
    short = segment(0.0, 2.0, " Just one sentence.")
    assert list(sentences([short])) == [short]
    misaligned = segment(
        0.0, 4.0, " Hello there. How are you?", [Word(0.0, 4.0, " Hellothere", 0.5)]
    )
    assert list(sentences([misaligned], limit=12)) == [misaligned]

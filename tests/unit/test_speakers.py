"""Speaker labels without services: the upload option, segments split at a change of speaker,
renaming, and every export showing the names."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest

from core.errors import Conflict, InvalidRequest
from core.events import SegmentOut
from core.models import Transcription
from core.options import parse_form
from core.speakers import rename
from core.transcripts import FORMATS
from worker.speaker_turns import Turns, label

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("value", ["off", "auto", "1", "8", "channels", " Auto "])
def test_the_speakers_field_takes_its_modes(value: str) -> None:
    options = parse_form({"speakers": value}, models=["tiny.en"])
    assert options.speaker_mode == value.strip().lower()


@pytest.mark.parametrize("value", ["0", "9", "two", "on"])
def test_other_speaker_values_are_refused(value: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_form({"speakers": value}, models=["tiny.en"])
    assert refused.value.code == "invalid_speakers"
    assert "'speakers'" in refused.value.message


def test_the_default_is_off() -> None:
    assert parse_form({}, models=["tiny.en"]).speaker_mode == "off"


def _word(start: float, end: float, text: str) -> dict[str, float | str]:
    return {"start": start, "end": end, "word": text, "probability": 0.9}


SEGMENT = SegmentOut(
    index=0,
    start=0.0,
    end=4.0,
    text=" Hello there. Hi!",
    words=[_word(0.0, 0.5, " Hello"), _word(0.6, 1.2, " there."), _word(2.5, 3.0, " Hi!")],
)


def test_a_segment_spanning_a_change_is_split_at_the_word() -> None:
    turns = Turns([(0.0, 1.5, 7), (2.0, 4.0, 3)])
    out, speakers = label([SEGMENT], turns, keep_words=True)
    assert speakers == ["S1", "S2"]
    assert [(s.index, s.start, s.end, s.text, s.speaker) for s in out] == [
        (0, 0.0, 1.2, " Hello there.", "S1"),
        (1, 2.5, 4.0, " Hi!", "S2"),
    ]
    assert [w["speaker"] for s in out for w in s.words or []] == ["S1", "S1", "S2"]


def test_words_are_dropped_when_not_asked_for_and_a_wordless_segment_takes_the_overlap() -> None:
    wordless = SegmentOut(index=1, start=5.0, end=6.0, text=" Bye.")
    turns = Turns([(0.0, 1.5, 0), (2.0, 5.2, 1), (5.2, 7.0, 0)])
    out, _ = label([SEGMENT, wordless], turns, keep_words=False)
    assert [s.speaker for s in out] == ["S1", "S2", "S1"]
    assert all(s.words is None for s in out)


def test_channels_keep_their_order() -> None:
    out, speakers = label(
        [SEGMENT], Turns([(0, 1.5, 1), (2, 4, 0)]), keep_words=False, in_order=True
    )
    assert [s.speaker for s in out] == ["S2", "S1"]
    assert speakers == ["S1", "S2"]


def _job() -> Transcription:
    return Transcription(
        id=uuid.uuid4(),
        filename="a.wav",
        storage_key="k",
        size_bytes=1,
        sha256="0" * 64,
        model="tiny.en",
        speakers={"S1": "S1", "S2": "S2"},
    )


def test_rename_merges_names_and_an_empty_name_gives_the_id_back() -> None:
    job = _job()
    job.speakers = rename(job, {"S1": "  Alice   Smith "})
    assert job.speakers == {"S1": "Alice Smith", "S2": "S2"}
    assert rename(job, {"S1": ""}) == {"S1": "S1", "S2": "S2"}


@pytest.mark.parametrize("names", [{"S3": "Carol"}, {"S1": "x" * 101}, {"S1": "a\x00b"}])
def test_rename_refuses_unknown_ids_and_bad_names(names: dict[str, str]) -> None:
    with pytest.raises(InvalidRequest):
        rename(_job(), names)


def test_rename_without_speakers_is_a_conflict() -> None:
    job = _job()
    job.speakers = None
    with pytest.raises(Conflict):
        rename(job, {"S1": "Alice"})


LABELLED = [
    SegmentOut(index=0, start=0.0, end=1.2, text=" Hello there.", speaker="S1"),
    SegmentOut(index=1, start=2.5, end=4.0, text=" Hi, <you>!", speaker="S2"),
]
META = {"speakers": {"S1": "Alice", "S2": "Bob & Co"}}


def _render(fmt: str) -> str:
    return FORMATS[fmt][0](LABELLED, META)


def test_every_export_uses_the_names() -> None:
    assert _render("txt") == "Alice: Hello there.\nBob & Co: Hi, <you>!\n"
    srt = _render("srt")
    assert "00:00:00,000 --> 00:00:01,200\nAlice: Hello there.\n" in srt
    assert "Bob & Co: Hi, <you>!" in srt
    vtt = _render("vtt")
    assert "<v Alice>Hello there." in vtt
    assert "<v Bob &amp; Co>Hi, &lt;you&gt;!" in vtt  # cue text escaped as WebVTT needs
    body = json.loads(_render("json"))
    assert [(s["speaker"], s["speaker_id"]) for s in body["segments"]] == [
        ("Alice", "S1"),
        ("Bob & Co", "S2"),
    ]
    assert _render("tsv").splitlines() == [
        "start\tend\tspeaker\ttext",
        "0\t1200\tAlice\tHello there.",
        "2500\t4000\tBob & Co\tHi, <you>!",
    ]
    rows = list(csv.reader(io.StringIO(_render("csv"))))
    assert rows[1:] == [
        ["0.000", "1.200", "Alice", "Hello there."],
        ["2.500", "4.000", "Bob & Co", "Hi, <you>!"],
    ]


def test_exports_without_speakers_are_unchanged() -> None:
    plain = [s.model_copy(update={"speaker": None}) for s in LABELLED]
    assert FORMATS["txt"][0](plain, {}) == "Hello there.\nHi, <you>!\n"
    assert FORMATS["tsv"][0](plain, {}).splitlines()[0] == "start\tend\ttext"
    assert "<v" not in FORMATS["vtt"][0](plain, {})
    assert "speaker" not in json.loads(FORMATS["json"][0](plain, {}))["segments"][0]

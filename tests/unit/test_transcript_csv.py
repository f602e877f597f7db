"""CSV transcripts (RFC 4180): header, CRLF rows, quoting of commas, quotes and line breaks."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest

from core.transcripts import FORMATS, to_csv

pytestmark = pytest.mark.unit


@dataclass
class Seg:
    index: int
    start: float
    end: float
    text: str


@dataclass
class SpokenSeg(Seg):
    speaker: str | None = None


def test_header_and_plain_rows_end_in_crlf_with_times_in_seconds() -> None:
    body = to_csv([Seg(0, 0.0, 2.5, " Hello there."), Seg(1, 2.5, 3661.0456, " Next.")], {})
    assert body == (
        "start,end,speaker,text\r\n0.000,2.500,,Hello there.\r\n2.500,3661.046,,Next.\r\n"
    )


def test_commas_quotes_and_line_breaks_are_quoted_and_read_back_unchanged() -> None:
    texts = ['He said "stop", then left.', "one, two, three", "first line\nsecond line", "a\r\nb"]
    segments = [Seg(n, float(n), n + 1.0, f" {text}") for n, text in enumerate(texts)]
    body = to_csv(segments, {})
    assert '"He said ""stop"", then left."' in body
    assert '"one, two, three"' in body
    assert '"first line\nsecond line"' in body
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert rows[0] == ["start", "end", "speaker", "text"]
    assert [row[3] for row in rows[1:]] == texts
    assert all(len(row) == 4 for row in rows)


def test_speaker_is_empty_until_a_segment_has_one() -> None:
    body = to_csv([SpokenSeg(0, 0, 1, " Hi", None), SpokenSeg(1, 1, 2, " Yo", "Ana, host")], {})
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert [row[2] for row in rows[1:]] == ["", "Ana, host"]


def test_no_segments_is_the_header_alone_and_csv_is_a_download_format() -> None:
    assert to_csv([], {}) == "start,end,speaker,text\r\n"
    render, media_type = FORMATS["csv"]
    assert render is to_csv
    assert media_type.startswith("text/csv")

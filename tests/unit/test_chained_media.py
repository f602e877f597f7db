"""Media whose header tells a fraction of its length: chained Ogg, concatenated MPEG-TS and
FLAC restart their timestamps at every link. The probe measures all of it, and decoding stops
at the duration limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import media
from core.errors import MediaError
from tests.support import media as media_files

pytestmark = pytest.mark.unit

LINK_SECONDS = 10
LINKS = 3


def chained(folder: Path, fmt: str) -> Path:
    return media_files.chained(folder, fmt, link_seconds=LINK_SECONDS, links=LINKS)


@pytest.mark.parametrize("fmt", sorted(media_files.CHAINED_CODECS))
def test_the_probe_measures_every_link(tmp_path: Path, fmt: str) -> None:
    probed = media.probe_in_process(chained(tmp_path, fmt))
    assert probed.duration_seconds == pytest.approx(LINK_SECONDS * LINKS, rel=0.03)


@pytest.mark.parametrize("fmt", sorted(media_files.CHAINED_CODECS))
def test_decoding_stops_at_the_limit(tmp_path: Path, fmt: str) -> None:
    path = chained(tmp_path, fmt)
    whole = media.decode_audio(path, max_seconds=LINK_SECONDS * LINKS + 5)
    assert len(whole) / media.SAMPLE_RATE == pytest.approx(LINK_SECONDS * LINKS, rel=0.03)
    with pytest.raises(MediaError) as refused:
        media.decode_audio(path, max_seconds=LINK_SECONDS * 1.5)
    assert refused.value.code == "duration_exceeded"


def test_extent_adds_up_runs_of_rising_timestamps() -> None:
    runs = media.StreamExtent()
    for _ in range(3):
        for pts in range(0, 1000, 100):  # each run restarts at 0; no packet durations
            runs.add(pts, 0)
    assert runs.ticks == 3 * 900
    durations = media.StreamExtent()
    for _ in range(30):
        durations.add(None, 100)  # no timestamps: the packets' durations add up
    assert durations.ticks == 3000
    late = media.StreamExtent()
    for pts in range(500, 1500, 100):  # a stream that starts late is measured from its start
        late.add(pts, 100)
    assert late.ticks == 1000

"""Long recordings cut into windows at silences, so no word is cut in two.

The worker transcribes a recording window by window (`worker.windowed`), so its memory is one
window's worth of samples (plus the model's work on it) whatever the recording's length.
`at_silences` fills a window of `WINDOW_SECONDS` from a stream of sample blocks
(`core.media.iter_audio`), then looks for the last silence in the window's last
`TAIL_SECONDS` with Silero VAD (the one faster-whisper ships): the window ends in the middle
of that silence and the rest is carried into the next window. A window whose tail holds no
silence at all (speech or music throughout) is cut at its end; a word may then be split
there. The last window holds whatever is left.

`last_silence` is the cut finder on its own: anything that splits recordings (pieces of a long
file for several workers) cuts at the same places by calling it, or by running `at_silences`
and keeping only each window's `start` and `end`.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import Any

from core.media import SAMPLE_RATE

WINDOW_SECONDS = 300.0
"""Length of a window (docs/benchmarks.md, "Worker memory": measured against 2 and 10 min)."""
TAIL_SECONDS = 30.0
"""How far back from a window's end a silence is looked for (at most half a window)."""
MIN_SILENCE_MS = 300
"""A pause the VAD must hear to count as silence, before the speech around it is padded."""
SPEECH_PAD_MS = 100
"""Speech is widened by this much on each side; the cut lies in the middle of what is left."""


@dataclass(frozen=True)
class Window:
    """Samples `start` up to `end` of the recording (mono float32 at `sample_rate`).

    `audio` is a view into the cutter's buffer: it is valid until the next window is asked
    for (copy it to keep it longer)."""

    start: int
    audio: Any
    sample_rate: int = SAMPLE_RATE

    @property
    def end(self) -> int:
        return self.start + len(self.audio)

    @property
    def offset(self) -> float:
        """Where the window starts in the recording, in seconds."""
        return self.start / self.sample_rate

    @property
    def end_seconds(self) -> float:
        return self.end / self.sample_rate


def _gaps(audio: Any, sample_rate: int) -> list[tuple[int, int]]:
    """The silences in `audio` as (begin, end) samples: what lies outside the speech Silero
    VAD finds (with `MIN_SILENCE_MS` and `SPEECH_PAD_MS`), the first and last touching its
    edges; audio with no speech at all is one silence."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=MIN_SILENCE_MS, speech_pad_ms=SPEECH_PAD_MS)
    speech = get_speech_timestamps(audio, options, sampling_rate=sample_rate)
    edges = [0, *(x for chunk in speech for x in (chunk["start"], chunk["end"])), len(audio)]
    return [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2) if edges[i + 1] > edges[i]]


def last_silence(audio: Any, sample_rate: int = SAMPLE_RATE) -> int | None:
    """The sample in the middle of the last silence in `audio`, or None if speech fills it."""
    gaps = _gaps(audio, sample_rate)
    return (gaps[-1][0] + gaps[-1][1]) // 2 if gaps else None


def nearest_silence(audio: Any, target: int, sample_rate: int = SAMPLE_RATE) -> int | None:
    """The sample in the middle of the silence nearest `target` in `audio`, or None when
    `audio` holds no silence between two stretches of speech. A silence touching either edge
    of `audio` does not count: speech may go on just beyond it (the cut would split a word),
    unless `audio` holds no speech at all."""
    gaps = _gaps(audio, sample_rate)
    if gaps == [(0, len(audio))]:
        return target
    inner = [(begin + end) // 2 for begin, end in gaps if begin > 0 and end < len(audio)]
    return min(inner, key=lambda cut: abs(cut - target)) if inner else None


def at_silences(
    blocks: Iterable[Any],
    window_seconds: float | None = None,
    sample_rate: int = SAMPLE_RATE,
    start: int = 0,
) -> Generator[Window, None, None]:
    """The recording in `blocks` (1-D float32 arrays) as consecutive windows, each cut at a
    silence near its end (`last_silence`), together covering every sample exactly once. The
    first window starts at sample `start` of the recording (a piece's, `worker.splitting`).

    Holds one buffer of `window_seconds` (default `WINDOW_SECONDS`); each window is a view of
    it. Closing the generator closes `blocks` (for `iter_audio`, the file)."""
    import numpy as np

    size = max(int((window_seconds or WINDOW_SECONDS) * sample_rate), 2)
    tail = min(int(TAIL_SECONDS * sample_rate), size // 2)
    buffer = np.empty(size, dtype=np.float32)
    filled = 0
    source = iter(blocks)
    try:
        for block in source:
            while len(block):
                taken = min(len(block), size - filled)
                buffer[filled : filled + taken] = block[:taken]
                filled += taken
                block = block[taken:]
                if filled < size:
                    continue
                found = last_silence(buffer[size - tail :], sample_rate)
                cut = size if found is None else size - tail + found
                yield Window(start, buffer[:cut], sample_rate)
                filled = size - cut
                buffer[:filled] = buffer[cut:size]  # the carry (numpy copies overlaps safely)
                start += cut
        if filled:
            yield Window(start, buffer[:filled], sample_rate)
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()

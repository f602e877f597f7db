"""Where people speak, and one voice embedding for every 1.6 s of it.

A recording is read in the transcriber's windows (`worker.windows.at_silences`, cut at
silences), so memory stays one window's worth. In each, Silero VAD (faster-whisper's) finds the
speech islands; quiet speech is raised to resemblyzer's level; windows of 1.6 s every
`STEP_SECONDS` inside each island are embedded (`worker.speaker_encoder`). An island of 1-1.6 s
gets one window centred on it, taken from the audio around it (never zero padding, which
embeds as a voice of its own). An island under `MIN_ISLAND_SECONDS` is joined to a neighbour
less than `JOIN_GAP_SECONDS` away (the next one first); one with no neighbour that near is not
embedded, and takes the speaker of the nearest embedded window (`worker.speaker_turns`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from worker.speaker_encoder import HOP, SAMPLE_RATE, WINDOW_FRAMES, louder, mel_spectrogram

STEP_SECONDS = 0.5
"""Between the starts of two embedded windows (resemblyzer uses about 0.77 s)."""
MIN_ISLAND_SECONDS = 1.0
JOIN_GAP_SECONDS = 0.5
WINDOW_SECONDS = WINDOW_FRAMES * HOP / SAMPLE_RATE
SPEECH_PAD_MS = 30
MIN_SILENCE_MS = 150


@dataclass
class Voiced:
    """The speech of a recording: its islands (start, end in seconds), the embedded windows'
    spans and their embeddings (one row each)."""

    islands: list[tuple[float, float]] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)
    embeddings: list[Any] = field(default_factory=list)

    def matrix(self) -> Any:
        if not self.embeddings:
            return np.zeros((0, 256), dtype=np.float32)
        return np.concatenate(self.embeddings)


def speech_islands(audio: Any) -> list[tuple[int, int]]:
    """(start, end) sample ranges of speech in 16 kHz `audio` (Silero VAD)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=MIN_SILENCE_MS, speech_pad_ms=SPEECH_PAD_MS)
    found = get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE)
    return [(int(c["start"]), int(c["end"])) for c in found]


def joined(islands: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Islands under `MIN_ISLAND_SECONDS` joined to the next island (else to the previous one)
    when the pause between them is under `JOIN_GAP_SECONDS`; an island far from both stays
    alone (and is not embedded)."""
    short = MIN_ISLAND_SECONDS * SAMPLE_RATE
    gap = JOIN_GAP_SECONDS * SAMPLE_RATE
    forward: list[tuple[int, int]] = []
    for start, end in islands:
        if forward and forward[-1][1] - forward[-1][0] < short and start - forward[-1][1] < gap:
            forward[-1] = (forward[-1][0], end)
        else:
            forward.append((start, end))
    out: list[tuple[int, int]] = []
    for start, end in forward:
        if out and end - start < short and start - out[-1][1] < gap:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def window_starts(start: int, end: int, total: int) -> list[int]:
    """Sample offsets of the windows embedded for the island [start, end) of a chunk of
    `total` samples; none for an island under `MIN_ISLAND_SECONDS`."""
    size = int(WINDOW_SECONDS * SAMPLE_RATE)
    length = end - start
    if length < MIN_ISLAND_SECONDS * SAMPLE_RATE or total < size:
        return []
    if length < size:
        centred = start + length // 2 - size // 2
        return [min(max(0, centred), total - size)]
    step = int(STEP_SECONDS * SAMPLE_RATE)
    starts = list(range(start, end - size + 1, step))
    if starts[-1] + size < end:  # the island's end is covered too
        starts.append(end - size)
    return starts


def embed_chunk(audio: Any, offset: float, embed: Callable[[Any], Any], into: Voiced) -> None:
    """Add the islands and window embeddings of one chunk that starts at `offset` seconds."""
    islands = joined(speech_islands(audio))
    if not islands:
        return
    speech = np.concatenate([audio[a:b] for a, b in islands])
    audio = louder(audio, float(np.sqrt(np.mean(speech.astype(np.float64) ** 2))))
    mels = mel_spectrogram(audio)
    windows = []
    for a, b in islands:
        into.islands.append((offset + a / SAMPLE_RATE, offset + b / SAMPLE_RATE))
        for first in window_starts(a, b, len(audio)):
            frame = first // HOP
            window = mels[frame : frame + WINDOW_FRAMES]
            if len(window) < WINDOW_FRAMES:
                continue
            windows.append(window)
            begin = offset + first / SAMPLE_RATE
            into.spans.append((begin, begin + WINDOW_SECONDS))
    if windows:
        into.embeddings.append(embed(np.stack(windows)))


def embed_recording(
    chunks: Iterable[Any],
    embed: Callable[[Any], Any],
    *,
    duration: float | None,
    progress: Callable[[float], bool] | None = None,
) -> Voiced | None:
    """Every chunk (`worker.windows.Window`s) embedded in turn. `progress(fraction)` is called
    after each chunk; when it returns False the work stops and None is returned."""
    voiced = Voiced()
    for chunk in chunks:
        embed_chunk(chunk.audio, chunk.offset, embed, voiced)
        done = chunk.end_seconds / duration if duration else 0.0
        if progress is not None and not progress(min(1.0, done)):
            return None
    return voiced

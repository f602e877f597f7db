"""`speakers=channels`: a stereo recording with one speaker per channel, told apart exactly.

No model: the audio is read in 100 ms frames, and each frame with sound in it belongs to the
channel that is louder there (channel 1 is `S1`, channel 2 `S2`). Frames quieter than
`SILENCE_DBFS` on both channels belong to nobody; a word or segment that falls only on them
takes the nearest speaker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from core import media
from worker.speaker_turns import Turns

FRAME_SECONDS = 0.1
SILENCE_DBFS = -50.0
RATE = 16000


class NotStereo(ValueError):
    def __init__(self) -> None:
        super().__init__("speakers=channels needs a stereo recording (one speaker per channel)")


def channel_energies(path: Path) -> Any:
    """(frames, 2) mean power of each channel per `FRAME_SECONDS`, read as it decodes."""
    import av

    size = int(FRAME_SECONDS * RATE)
    rows: list[Any] = []
    carry = np.zeros((2, 0), dtype=np.float32)
    with media._open(path) as container:  # the same whitelist as every decode
        stream = next(iter(container.streams.audio), None)
        if stream is None or stream.codec_context.channels != 2:
            raise NotStereo()
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
        for frame in [*container.decode(stream), None]:
            for out in resampler.resample(frame):
                carry = np.concatenate([carry, out.to_ndarray()], axis=1)
                whole = carry.shape[1] // size * size
                if whole:
                    blocks = carry[:, :whole].reshape(2, -1, size)
                    rows.append((blocks.astype(np.float64) ** 2).mean(axis=2).T)
                    carry = carry[:, whole:]
    if carry.shape[1]:
        rows.append((carry.astype(np.float64) ** 2).mean(axis=1)[None, :])
    return np.concatenate(rows) if rows else np.zeros((0, 2))


def channel_turns(path: Path) -> Turns:
    energies = channel_energies(path)
    floor = 10 ** (SILENCE_DBFS / 10)
    spans: list[tuple[float, float, int]] = []
    for n, (left, right) in enumerate(energies):
        if max(left, right) < floor:
            continue
        who = 0 if left >= right else 1
        start = n * FRAME_SECONDS
        if spans and spans[-1][2] == who and abs(spans[-1][1] - start) < 1e-9:
            spans[-1] = (spans[-1][0], start + FRAME_SECONDS, who)
        else:
            spans.append((start, start + FRAME_SECONDS, who))
    return Turns(spans)

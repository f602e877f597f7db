"""Dialogs made on the spot: espeak-ng voices taking turns, with the turns' true times, and
the share of speech time given to the wrong speaker."""

from __future__ import annotations

import itertools
import subprocess
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.support.media import require

RATE = 16000
PAUSE_SECONDS = 0.4
VOICES = ("en-us", "en+f2", "en-us+f4")
"""Clearly different espeak-ng voices: a male, two female variants."""
LINES = (
    "Good morning, did you get the report I sent yesterday afternoon?",
    "Yes, I read it last night, and I think the numbers look much better now.",
    "That is good to hear, because the team worked very hard on the second part.",
    "We should still check the figures for the last quarter before the meeting.",
    "I can do that today, and send you a short summary before five o'clock.",
    "Thank you, that would help a lot, and please include the travel costs too.",
    "Of course. Should I also ask the others to look at the first chapter again?",
    "Not yet, let us wait until the summary is done and then decide together.",
    "Fine. Then I will call you tomorrow morning to go through it step by step.",
)


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: int


def voice(text: str, speaker: str, folder: Path, name: str) -> np.ndarray:
    """`text` spoken by the espeak-ng voice `speaker`, as 16 kHz float32 samples."""
    path = folder / f"{name}.wav"
    subprocess.run(
        [require("espeak-ng"), "-v", speaker, "-s", "150", "-w", str(path), text],
        check=True,
        capture_output=True,
    )
    with wave.open(str(path)) as source:
        rate = source.getframerate()
        raw = np.frombuffer(source.readframes(source.getnframes()), dtype=np.int16)
    samples = raw.astype(np.float32) / 32768
    times = np.arange(0, len(samples) / rate, 1 / RATE)
    return np.interp(times, np.arange(len(samples)) / rate, samples).astype(np.float32)


def _trimmed(audio: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return audio[loud[0] : loud[-1] + 1] if len(loud) else audio


def write_wav(path: Path, channels: list[np.ndarray]) -> Path:
    frames = np.stack(channels, axis=1)
    with wave.open(str(path), "wb") as target:
        target.setnchannels(len(channels))
        target.setsampwidth(2)
        target.setframerate(RATE)
        target.writeframes((np.clip(frames, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def dialog(
    folder: Path, voices: int, *, turns: int = 9, stereo: bool = False
) -> tuple[Path, list[Turn]]:
    """A WAV of `turns` lines spoken by `voices` voices in turn (each voice twice at least),
    and where each line is. `stereo`: each voice on its own channel (the other silent)."""
    order = [i % voices for i in range(turns)]
    pause = np.zeros(int(PAUSE_SECONDS * RATE), dtype=np.float32)
    parts: list[list[np.ndarray]] = [[] for _ in range(voices if stereo else 1)]
    truth: list[Turn] = []
    position = 0
    for n, (speaker, text) in enumerate(zip(order, itertools.cycle(LINES), strict=False)):
        clip = _trimmed(voice(text, VOICES[speaker], folder, f"line-{voices}-{n}"))
        truth.append(Turn(position / RATE, (position + len(clip)) / RATE, speaker))
        for channel, part in enumerate(parts):
            heard = clip if not stereo or channel == speaker else np.zeros_like(clip)
            part.extend([heard, pause])
        position += len(clip) + len(pause)
    name = f"dialog-{voices}{'-stereo' if stereo else ''}.wav"
    return write_wav(folder / name, [np.concatenate(p) for p in parts]), truth


def wrong_share(truth: list[Turn], who: Callable[[float, float], str | None]) -> float:
    """The share of the true speech time given to the wrong speaker, under the best mapping of
    labels to true speakers; `who(start, end)` is the speaker given to that span (None counts
    as wrong). Measured on a 20 ms grid."""
    step = 0.02
    grid = np.arange(0, max(t.end for t in truth), step)
    true = np.full(len(grid), -1)
    for t in truth:
        true[(grid >= t.start) & (grid < t.end)] = t.speaker
    speech = np.flatnonzero(true >= 0)
    given = [who(float(grid[i]), float(grid[i]) + step) for i in speech]
    names = sorted({g for g in given if g is not None})
    got = np.array([names.index(g) if g is not None else -1 for g in given])
    speakers = len({t.speaker for t in truth})
    best = 0
    for mapping in itertools.permutations(range(max(len(names), speakers)), len(names)):
        mapped = np.array([mapping[g] if g >= 0 else -2 for g in got])
        best = max(best, int(np.sum(mapped == true[speech])))
    return 1 - best / len(speech)

"""Benchmark recordings: espeak-ng speaking varied English, cut to exact lengths.

Each recording's text is drawn from sentence templates with a seed, so recordings of the same
length differ from each other yet are the same on every run. Files are cached by length and
seed, 16 kHz mono 16-bit WAV.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

VOICE = "en-us"
WORDS_PER_MINUTE = 140
SAMPLE_RATE = 16000

_SUBJECTS = [
    "The finance team",
    "Our new neighbour",
    "The night shift nurse",
    "A small group of students",
    "The project manager",
    "My grandmother",
    "The city council",
    "Every volunteer",
    "The kitchen staff",
    "A young engineer",
    "The museum guide",
    "Our football coach",
]
_ACTIONS = [
    "prepared the quarterly report",
    "repaired the old bicycle",
    "planted tomatoes and beans",
    "answered every letter",
    "painted the front door blue",
    "cooked a large pot of soup",
    "counted the boxes twice",
    "wrote a short history of the town",
    "moved the piano upstairs",
    "cleaned the windows",
    "tested the new software",
    "read the instructions aloud",
]
_PLACES = [
    "before the meeting on Friday",
    "in the library near the station",
    "after the heavy rain stopped",
    "while the children were asleep",
    "at the end of a very long week",
    "in the garden behind the school",
    "during the lunch break",
    "on a cold morning in January",
    "next to the river",
    "before anyone else arrived",
    "in less than two hours",
    "without asking for any help",
]
_CLOSERS = [
    "Everyone agreed that it was a good idea.",
    "Nobody expected the result to be so good.",
    "The weather was warm and the sky was clear.",
    "Later that evening they shared a quiet dinner.",
    "It took longer than anyone had planned.",
    "The next step is to write everything down.",
    "Please remember to lock the door when you leave.",
    "The numbers will be checked again next month.",
]


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(f"{tool} is not installed (`make bench` installs it)")
    return path


def script(seconds: float, seed: int) -> str:
    """Enough varied English to fill `seconds` of speech."""
    rng = random.Random(seed)
    words_needed = seconds * WORDS_PER_MINUTE / 60 * 1.3 + 8
    sentences: list[str] = []
    words = 0
    while words < words_needed:
        if sentences and rng.random() < 0.25:
            sentence = rng.choice(_CLOSERS)
        else:
            sentence = f"{rng.choice(_SUBJECTS)} {rng.choice(_ACTIONS)} {rng.choice(_PLACES)}."
        sentences.append(sentence)
        words += len(sentence.split())
    return " ".join(sentences)


def recording(seconds: float, seed: int, folder: Path) -> Path:
    """A WAV of exactly `seconds` of speech (cached)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"speech-{seconds:g}s-{seed}.wav"
    if target.exists():
        return target
    raw = folder / f".raw-{seconds:g}s-{seed}.wav"
    subprocess.run(
        [_require("espeak-ng"), "-v", VOICE, "-s", str(WORDS_PER_MINUTE), "-w", str(raw)],
        input=script(seconds, seed).encode(),
        check=True,
        capture_output=True,
    )
    partial = target.with_suffix(".part.wav")
    subprocess.run(
        [
            _require("ffmpeg"),
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(raw),
            "-af",
            "apad",
            "-t",
            f"{seconds}",
            "-ar",
            str(SAMPLE_RATE),
            "-ac",
            "1",
            "-c:a",
            "pcm_s16le",
            str(partial),
        ],
        check=True,
    )
    raw.unlink()
    partial.replace(target)
    return target


def recordings(seconds: float, count: int, folder: Path, first_seed: int = 0) -> list[Path]:
    return [recording(seconds, first_seed + i, folder) for i in range(count)]


def duration(path: Path) -> float:
    """Length of a PCM WAV file in seconds."""
    import wave

    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()

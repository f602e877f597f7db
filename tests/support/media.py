"""Test media made on the spot: espeak-ng speech, ffmpeg conversions, word error rate."""

from __future__ import annotations

import array
import hashlib
import re
import secrets
import shutil
import subprocess
import wave
from pathlib import Path

import jiwer

VOICE = "en-us"
WORDS_PER_MINUTE = 140


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(f"{tool} is not installed (`make test` installs it)")
    return path


def speech(
    text: str,
    folder: Path,
    *,
    name: str | None = None,
    fmt: str = "wav",
    voice: str = VOICE,
    words_per_minute: int = WORDS_PER_MINUTE,
) -> Path:
    """Speak `text` with espeak-ng (`voice`: a voice or language, e.g. de, fr) into
    folder/name.fmt (cached by content)."""
    key = f"{text}|{fmt}"
    if (voice, words_per_minute) != (VOICE, WORDS_PER_MINUTE):
        key += f"|{voice}|{words_per_minute}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    name = name or f"speech-{digest}"
    wav = folder / f"{name}.wav"
    if not wav.exists():
        subprocess.run(
            [require("espeak-ng"), "-v", voice, "-s", str(words_per_minute), "-w", str(wav), text],
            check=True,
            capture_output=True,
        )
    if fmt == "wav":
        return wav
    return convert(wav, folder / f"{name}.{fmt}")


def unique_copy(source: Path, target: Path) -> Path:
    """A copy of the 16-bit WAV `source` at `target` ending in 50 ms of random one-step dither
    (inaudible): the same speech in a file no other upload shares, so deduplication never
    reuses another job for it, without random words a small model may mishear."""
    with wave.open(str(source), "rb") as reader:
        params = reader.getparams()
        frames = reader.readframes(params.nframes)
    count = params.framerate // 20 * params.nchannels
    dither = array.array("h", (secrets.choice((-1, 0, 1)) for _ in range(count)))
    with wave.open(str(target), "wb") as writer:
        writer.setparams(params)
        writer.writeframes(frames + dither.tobytes())
    return target


def _ffmpeg(*args: str) -> None:
    subprocess.run([require("ffmpeg"), "-loglevel", "error", "-y", *args], check=True)


def convert(source: Path, target: Path, *extra: str) -> Path:
    _ffmpeg("-i", str(source), *extra, str(target))
    return target


def video(source_audio: Path, target: Path) -> Path:
    """An mp4 with a small moving test picture and the given audio track."""
    picture = ("-f", "lavfi", "-i", "testsrc=size=160x120:rate=10")
    codecs = ("-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")
    _ffmpeg(*picture, "-i", str(source_audio), "-shortest", *codecs, str(target))
    return target


def concat(parts: list[Path], target: Path) -> Path:
    """Join WAV files (same format) into one."""
    listing = target.with_suffix(".txt")
    listing.write_text("".join(f"file '{p.resolve()}'\n" for p in parts))
    _ffmpeg(
        "-f", "concat", "-safe", "0", "-i", str(listing), "-ar", "16000", "-ac", "1", str(target)
    )
    listing.unlink()
    return target


def _normalise(text: str) -> str:
    """Lower case, letters of any script and digits only."""
    return " ".join(re.sub(r"[^\w']|_", " ", text.lower()).split())


def word_error_rate(reference: str, hypothesis: str) -> float:
    return float(jiwer.wer(_normalise(reference), _normalise(hypothesis)))


def word_alignment(reference: str, hypothesis: str) -> jiwer.WordOutput:
    """Hits, substitutions, deletions (words lost) and insertions (words added) of
    `hypothesis` against `reference`, normalised as `word_error_rate` does."""
    return jiwer.process_words(_normalise(reference), _normalise(hypothesis))


CHAINED_CODECS = {"ogg": ["-c:a", "libvorbis"], "ts": ["-c:a", "mp2"], "flac": ["-c:a", "flac"]}
"""Formats whose links can be joined byte for byte, each link restarting its timestamps."""


def chained(folder: Path, fmt: str, *, link_seconds: float, links: int) -> Path:
    """`links` copies of one `link_seconds` tone, byte for byte one after another: the header
    (and the largest timestamp) of such a file tell the length of one link only."""
    link = folder / f"link-{link_seconds:g}s.{fmt}"
    tone = f"sine=frequency=440:duration={link_seconds}"
    _ffmpeg("-f", "lavfi", "-i", tone, "-ac", "1", "-ar", "16000", *CHAINED_CODECS[fmt], str(link))
    whole = folder / f"chained-{links}x{link_seconds:g}s.{fmt}"
    whole.write_bytes(link.read_bytes() * links)
    return whole

"""A stand-in for a loaded faster-whisper model, and a short tone to feed it.

`FakeModel.transcribe` returns what faster-whisper's does: a generator of segments (with
`start`, `end`, `text`, `words`) and an info object (`language`, `duration`), for one window
of the recording (`windows` gives the segments of the windows after the first). The worker runs
the generator in its decoding thread; a *paced* model yields each segment after the first (and
then its end) only once the test has called `advance()`, so the test decides which segments
arrive together in one burst. `release()` lets everything through (a test must release a paced
model whose run stops early, or the decoding thread would wait for a step that never comes).
A model paced *on read* goes on by itself once the job's thread has read the segment it
yielded last: each segment arrives as a burst of its own, whatever the job does with it.
An *endless* model keeps yielding filler segments after its own, like a long recording.
"""

from __future__ import annotations

import functools
import io
import itertools
import math
import struct
import threading
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.media import SAMPLE_RATE
from core.options import JobOptions

STEP_TIMEOUT = 10.0
"""How long a paced model waits for a step before failing the run (a test that forgot one)."""


@dataclass(frozen=True)
class FakeWord:
    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class FakeSegment:
    start: float
    end: float
    text: str
    words: list[FakeWord] | None = None


@dataclass(frozen=True)
class FakeInfo:
    language: str
    duration: float


@dataclass
class Transcribed:
    """One call of `transcribe` (one window): the audio's length in samples, the options and
    the text before the window it was given."""

    samples: int
    options: JobOptions
    previous_text: str = ""


class FakeModel:
    def __init__(
        self,
        segments: Sequence[FakeSegment],
        *,
        language: str = "en",
        paced: bool = False,
        advance_on_read: bool = False,
        endless: bool = False,
        error: BaseException | None = None,
        windows: Sequence[Sequence[FakeSegment]] = (),
    ):
        self.segments = list(segments)
        self.windows = [list(w) for w in windows]
        """The segments of each later call, in order (times within its window): a recording
        transcribed window by window. The first call yields `segments`; calls past these
        yield nothing."""
        self.language = language
        self.paced = paced or advance_on_read
        self.advance_on_read = advance_on_read
        self.endless = endless
        self.error = error
        """Raised by the generator after the model's own segments (a failure mid-decoding)."""
        self.calls: list[Transcribed] = []
        self.yielded = 0
        self._steps = threading.Semaphore(0)
        self._released = threading.Event()

    def advance(self) -> None:
        """Let the generator yield its next segment (or end)."""
        self._steps.release()

    def release(self) -> None:
        """Let the generator run freely from now on."""
        self._released.set()
        self._steps.release()

    def _step(self) -> None:
        waits = self.paced and not self._released.is_set()
        if waits and not self._steps.acquire(timeout=STEP_TIMEOUT):
            raise TimeoutError("the fake model was never told to go on")

    def _generate(self, segments: list[FakeSegment]) -> Iterator[Any]:
        for index, segment in enumerate(segments):
            if index:
                self._step()
            self.yielded += 1
            yield _ReadAdvances(segment, self) if self.advance_on_read else segment
        if self.error is not None:
            raise self.error
        if self.endless:
            for index in itertools.count(len(segments)):
                self.yielded += 1
                yield FakeSegment(start=float(index), end=index + 1.0, text=f" filler {index}.")
        self._step()

    def transcribe(
        self, audio: Any, options: JobOptions, *, previous_text: str = ""
    ) -> tuple[Iterator[Any], FakeInfo]:
        calls = len(self.calls)
        self.calls.append(Transcribed(len(audio), options, previous_text))
        later = self.windows[calls - 1] if 0 < calls <= len(self.windows) else []
        segments = self.segments if not calls else later
        return self._generate(segments), FakeInfo(self.language, len(audio) / SAMPLE_RATE)


class _ReadAdvances:
    """A segment that lets its model go on once its text has been read (by the job's thread)."""

    def __init__(self, segment: FakeSegment, model: FakeModel):
        self.start, self.end, self.words = segment.start, segment.end, segment.words
        self._text = segment.text
        self._model = model

    @property
    def text(self) -> str:
        self._model.advance()
        return self._text


@dataclass
class FakeModels:
    """The worker's model registry, holding one fake model: records the names asked for."""

    model: FakeModel
    asked: list[str | None] = field(default_factory=list)

    def get(self, model_name: str | None = None) -> FakeModel:
        self.asked.append(model_name)
        return self.model


@functools.cache
def tone_wav(seconds: float) -> bytes:
    """A 440 Hz tone as 16 kHz mono 16-bit WAV."""
    frames = int(seconds * SAMPLE_RATE)
    step = 2 * math.pi * 440 / SAMPLE_RATE
    samples = b"".join(struct.pack("<h", int(8000 * math.sin(step * i))) for i in range(frames))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(samples)
    return out.getvalue()

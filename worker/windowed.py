"""One recording transcribed window by window (`worker.windows`) as if in one pass.

Each window goes to the model on its own; its segments (and words) are moved by the window's
start, so their times are the recording's. The language detected in the first window is kept
for the others (faster-whisper detects it once per file, too), and each window is given the
text before it (`previous_text`): decoding sequentially, the model takes it as its prompt, so
conditioning on the previous text carries over the cut. The pipeline numbers the segments as
they come, so indexes run on across windows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any, Protocol

from core.options import JobOptions
from worker import allocator
from worker.windows import Window

PREVIOUS_TEXT_CHARS = 80
"""Text handed to the next window as its prompt: about its last sentence. Whisper would keep
up to 223 prompt tokens, but a long prompt made `tiny.en` loop on the windowed-decoding test's
recording: with 180 characters or more of the text before it, it read a 12 s window of clear
speech as ". . . .", with 120 it began the window with the prompt's last sentence again; with
50 to 100 it read the window's own words."""


class Model(Protocol):
    """A loaded model: `transcribe` returns faster-whisper's (segments, info) for one window,
    given the text transcribed before it."""

    def transcribe(
        self, audio: Any, options: JobOptions, *, previous_text: str = ""
    ) -> tuple[Iterable[Any], Any]: ...


def shifted(segment: Any, seconds: float) -> Any:
    """`segment` (a dataclass like faster-whisper's) moved `seconds` later, its words too."""
    if not seconds:
        return segment
    words = getattr(segment, "words", None)
    if words:
        words = [
            replace(w, start=round(w.start + seconds, 3), end=round(w.end + seconds, 3))
            for w in words
        ]
    return replace(
        segment,
        start=round(segment.start + seconds, 3),
        end=round(segment.end + seconds, 3),
        words=words,
    )


def _mixed(info: Any) -> bool:
    """Decoded with per-window language detection (a recording may change language): the
    first window's language is not imposed on the others."""
    return bool(getattr(getattr(info, "transcription_options", None), "multilingual", False))


def _close(iterable: object) -> None:
    close = getattr(iterable, "close", None)
    if close is not None:
        close()


class WindowedTranscription:
    """Iterate `segments()` once; `language` and `seconds` are known as windows go by."""

    def __init__(self, model: Model, windows: Iterable[Window], options: JobOptions):
        self.model = model
        self.windows = windows
        self.options = options
        self.language: str | None = None
        self.seconds = 0.0
        """The audio transcribed so far (all of it once `segments()` is done)."""

    def segments(self) -> Iterator[Any]:
        options = self.options
        previous = ""
        before: list[Any] = []  # the previous window's segments (their text is read lazily)
        try:
            for window in self.windows:
                previous = (previous + "".join(s.text for s in before))[-PREVIOUS_TEXT_CHARS:]
                raw, info = self.model.transcribe(window.audio, options, previous_text=previous)
                if self.language is None:
                    self.language = info.language
                    if not options.requested_language and info.language and not _mixed(info):
                        options = options.model_copy(update={"requested_language": info.language})
                before = []
                try:
                    for segment in raw:
                        before.append(segment)
                        yield shifted(segment, window.offset)
                finally:
                    _close(raw)
                self.seconds = window.end_seconds
                allocator.release()  # the window's work space, before the next one
        finally:
            _close(self.windows)

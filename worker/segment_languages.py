"""Each segment's language, from the same language detection faster-whisper decodes it with.

faster-whisper's `multilingual=True` detects the language of every 30 s window (sequential
decoding) or of every voice-activity chunk (batched decoding) and decodes it in that language,
but its `Segment` does not say which language that was. These subclasses record it:
`LanguageSegment` is faster-whisper's segment with a `language` field (so `dataclasses.replace`,
which the sentence splitter and the window shift use, keeps it).

- Sequentially, the tokenizer holds the window's language while the window's segments are
  handed out, so each segment takes the tokenizer's language as it passes.
- Batched, the language of each chunk is detected again from the encoder output the batch was
  decoded from (one decoder step per chunk, as faster-whisper does), and each chunk's segments
  take it in order.

Without `multilingual`, every segment has the one language the file was decoded in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.transcribe import Segment


@dataclass
class LanguageSegment(Segment):
    language: str | None = None


def with_language(segment: Segment, language: str | None) -> LanguageSegment:
    values = {f.name: getattr(segment, f.name) for f in fields(Segment)}
    return LanguageSegment(**values, language=language)


class LanguageTaggingModel(WhisperModel):
    """A `WhisperModel` whose sequential segments carry their language."""

    def generate_segments(
        self,
        features: Any,
        tokenizer: Any,
        options: Any,
        log_progress: Any,
        encoder_output: Any = None,
    ) -> Iterator[LanguageSegment]:
        segments = super().generate_segments(
            features, tokenizer, options, log_progress, encoder_output
        )
        for segment in segments:
            yield with_language(segment, tokenizer.language_code)


class LanguageTaggingPipeline(BatchedInferencePipeline):
    """A `BatchedInferencePipeline` whose segments carry their chunk's language."""

    def __init__(self, model: WhisperModel):
        super().__init__(model)
        self._languages: deque[str | None] = deque()
        self._batch_languages: list[str] | None = None

    def generate_segment_batched(self, features: Any, tokenizer: Any, options: Any) -> Any:
        encoder_output, output = super().generate_segment_batched(features, tokenizer, options)
        if options.multilingual:
            detected = self.model.model.detect_language(encoder_output)
            self._batch_languages = [found[0][0][2:-2] for found in detected]
        return encoder_output, output

    def forward(self, features: Any, tokenizer: Any, chunks_metadata: Any, options: Any) -> Any:
        self._batch_languages = None
        outputs = super().forward(features, tokenizer, chunks_metadata, options)
        languages = self._batch_languages or [tokenizer.language_code] * len(outputs)
        for chunk, language in zip(outputs, languages, strict=True):
            self._languages.extend([language] * len(chunk))
        return outputs

    def _batched_segments_generator(self, *args: Any, **kwargs: Any) -> Iterator[LanguageSegment]:
        self._languages.clear()
        for segment in super()._batched_segments_generator(*args, **kwargs):
            language = self._languages.popleft() if self._languages else None
            yield with_language(segment, language)

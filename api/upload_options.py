"""Validation of the optional upload form fields."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InvalidRequest
from core.settings import Settings

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
PROMPT_LIMIT = 1000


def whisper_languages() -> frozenset[str]:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return frozenset(_LANGUAGE_CODES)


@dataclass(frozen=True)
class UploadOptions:
    language: str | None
    model: str
    task: str
    word_timestamps: bool
    vad: bool
    precise_timestamps: bool
    initial_prompt: str | None


def _flag(fields: dict[str, str], name: str) -> bool:
    value = fields.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidRequest(f"The field {name!r} must be true or false.", code="invalid_field")


def parse_options(fields: dict[str, str], settings: Settings) -> UploadOptions:
    language = fields.get("language", "").strip().lower() or None
    if language == "auto":
        language = None
    if language is not None and language not in whisper_languages():
        raise InvalidRequest(f"Unknown language code {language!r}.", code="invalid_language")
    model = fields.get("model", "").strip() or settings.whisper_model
    if model not in settings.models_allowed():
        raise InvalidRequest(
            f"Model {model!r} is not offered here; available: "
            f"{', '.join(settings.models_allowed())}.",
            code="invalid_model",
        )
    task = fields.get("task", "").strip().lower() or "transcribe"
    if task not in {"transcribe", "translate"}:
        raise InvalidRequest(
            "The field 'task' must be transcribe or translate.", code="invalid_task"
        )
    prompt = fields.get("initial_prompt", "").strip() or None
    if prompt is not None and len(prompt) > PROMPT_LIMIT:
        raise InvalidRequest(
            f"The initial prompt is longer than {PROMPT_LIMIT} characters.", code="invalid_field"
        )
    return UploadOptions(
        language=language,
        model=model,
        task=task,
        word_timestamps=_flag(fields, "word_timestamps"),
        vad=_flag(fields, "vad"),
        precise_timestamps=_flag(fields, "precise_timestamps"),
        initial_prompt=prompt,
    )

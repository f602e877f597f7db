"""OpenAI's audio form, read into a job's options and the answer it asks for.

`POST /v1/audio/transcriptions` and `/v1/audio/translations` take one file in the field
`file` and these text fields: `model` (a model offered here, or `whisper-1` for the default
one), `language`, `prompt` (the job's `initial_prompt`), `temperature`, `response_format`,
`timestamp_granularities[]` (`word` turns on the job's `word_timestamps`), `stream` and
`chunking_strategy`. Decoding options are pinned by the workers, with Whisper's temperature
fallback from 0: that is what OpenAI's `temperature=0` means, so 0 (or no value) is accepted
and any other temperature is refused rather than silently ignored. `chunking_strategy` is
accepted and ignored: the workers always cut long audio at silences themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from api.ingest import UploadForm
from api.openai_compat.errors import OpenAIRequestError
from api.uploads import ReceivedForm
from core import model_catalog
from core.errors import InvalidRequest
from core.options import JobOptions, parse_form
from core.settings import Settings
from core.workers import PoolView

DEFAULT_MODEL_ALIAS = "whisper-1"
RESPONSE_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
GRANULARITIES = ("segment", "word")
FILE_FIELD = "file"
FIELD_NAMES = frozenset(
    {
        "model",
        "language",
        "prompt",
        "temperature",
        "response_format",
        "timestamp_granularities[]",
        "timestamp_granularities",
        "stream",
        "chunking_strategy",
    }
)
_TRUE = ("true", "1")
_FALSE = ("false", "0", "")
_PARAMS = {"invalid_language": "language", "invalid_model": "model"}


@dataclass(frozen=True)
class AudioRequest:
    """What one OpenAI audio request asks: the job's options and the shape of the answer."""

    options: JobOptions
    response_format: str
    stream: bool
    granularities: tuple[str, ...]

    @property
    def words(self) -> bool:
        return "word" in self.granularities

    @property
    def segments(self) -> bool:
        """verbose_json lists segments unless only words were asked for (as OpenAI does)."""
        return not self.granularities or "segment" in self.granularities


def resolve_model(name: str, offered: Sequence[str]) -> str:
    name = name.strip()
    if not name or name == DEFAULT_MODEL_ALIAS:
        return offered[0]
    if name not in offered:
        raise OpenAIRequestError(
            f"The model {name!r} is not offered here; use {DEFAULT_MODEL_ALIAS} or one of: "
            f"{', '.join(offered)}.",
            param="model",
            code="model_not_found",
        )
    return name


def _temperature(raw: str) -> None:
    if not raw.strip():
        return
    try:
        value = float(raw)
    except ValueError:
        raise OpenAIRequestError(
            "temperature must be a number.", param="temperature", code="invalid_type"
        ) from None
    if value != 0:
        raise OpenAIRequestError(
            "Only temperature 0 is supported: decoding starts at 0 and raises the temperature "
            "by itself when a window decodes badly (Whisper's fallback).",
            param="temperature",
            code="unsupported_value",
        )


def _flag(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value not in _TRUE + _FALSE:
        raise OpenAIRequestError(f"{name} must be true or false.", param=name, code="invalid_type")
    return value in _TRUE


def _granularities(form: ReceivedForm, response_format: str) -> tuple[str, ...]:
    given = form.repeated.get("timestamp_granularities[]", []) + form.repeated.get(
        "timestamp_granularities", []
    )
    values = tuple(dict.fromkeys(v.strip() for v in given if v.strip()))
    unknown = [v for v in values if v not in GRANULARITIES]
    if unknown:
        raise OpenAIRequestError(
            f"Unknown timestamp granularity {unknown[0][:40]!r}; use word or segment.",
            param="timestamp_granularities",
            code="invalid_value",
        )
    if values and response_format != "verbose_json":
        raise OpenAIRequestError(
            "timestamp_granularities needs response_format=verbose_json.",
            param="timestamp_granularities",
            code="invalid_value",
        )
    return values


def _options(fields: dict[str, str], model: str, task: str, words: bool) -> JobOptions:
    native = {
        "model": model,
        "language": fields.get("language", ""),
        "initial_prompt": fields.get("prompt", ""),
        "task": task,
        "word_timestamps": "true" if words else "",
    }
    try:
        return parse_form(native, models=[model])
    except InvalidRequest as exc:
        message = exc.message.replace("'initial_prompt'", "'prompt'")
        raise OpenAIRequestError(
            message, param=_PARAMS.get(exc.code, "prompt"), code=exc.code
        ) from None


def read_request(
    form: ReceivedForm, task: str, pools: PoolView, settings: Settings
) -> AudioRequest:
    """The request's options and answer; OpenAIRequestError (400) names a bad field."""
    fields = form.fields
    response_format = fields.get("response_format", "").strip() or "json"
    if response_format not in RESPONSE_FORMATS:
        raise OpenAIRequestError(
            f"response_format must be one of {', '.join(RESPONSE_FORMATS)}.",
            param="response_format",
            code="invalid_value",
        )
    _temperature(fields.get("temperature", ""))
    granularities = _granularities(form, response_format)
    model = resolve_model(fields.get("model", ""), pools.offered(settings))
    options = _options(fields, model, task, "word" in granularities)
    language = options.requested_language
    multilingual = model_catalog.multilingual(model, pools.multilingual.get(model))
    if language not in (None, "en") and not multilingual:
        raise OpenAIRequestError(
            f"The model {model} understands English only; language {language!r} needs a "
            "multilingual model (see GET /v1/models).",
            param="language",
            code="unsupported_language",
        )
    stream = _flag(fields.get("stream", ""), "stream")
    return AudioRequest(options, response_format, stream, granularities)


def upload_form(task: str) -> UploadForm:
    """The shape of the upload use-case for OpenAI's audio form: one file, OpenAI's fields."""

    def options(form: ReceivedForm, pools: PoolView, settings: Settings) -> JobOptions:
        return read_request(form, task, pools, settings).options

    return UploadForm(
        file_field=FILE_FIELD, field_names=FIELD_NAMES, read_options=options, max_files=1
    )

"""What a job is asked to do: every per-job option, defined once.

`JobOptions` is the upload form's options (parsed by `parse_form`), the option columns of the
`transcriptions` table (which inherits them), the options of the public Transcription shape and
of the worker's claim, and the input of `worker.transcriber.decode_options`. A new option is a
field here, a migration, and the code that uses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

import sqlalchemy as sa
from pydantic import ValidationError, ValidationInfo, field_validator
from sqlmodel import Field, SQLModel

from core.errors import InvalidRequest
from core.languages import WHISPER_LANGUAGES

PROMPT_LIMIT = 1000
URL_LIMIT = 2000
TASKS = ("transcribe", "translate")

SPEAKER_MODES = ("off", "auto", *(str(n) for n in range(1, 9)), "channels")

FORM_NAMES = {"requested_language": "language", "speaker_mode": "speakers"}
"""Options whose upload form field has another name than the option (the contract's names)."""

_ERROR_CODES = {
    "requested_language": "invalid_language",
    "model": "invalid_model",
    "task": "invalid_task",
    "speaker_mode": "invalid_speakers",
}
"""The error code of an invalid option; any other option gets `invalid_field`."""


class JobOptions(SQLModel):
    requested_language: str | None = Field(
        default=None,
        max_length=16,
        description="Language code (e.g. en, de) or 'auto' (the default: detected).",
    )
    model: str = Field(max_length=200, description="An allowed model name.")
    task: str = Field(
        default="transcribe",
        max_length=16,
        description="transcribe, or translate into English.",
        schema_extra={"json_schema_extra": {"enum": list(TASKS)}},
    )
    word_timestamps: bool = Field(default=False, description="Times for every word.")
    vad: bool = Field(default=False, description="Skip silence with voice activity detection.")
    precise_timestamps: bool = Field(
        default=False,
        description="Decode Whisper's segment timestamps (slower) instead of voice-activity "
        "chunks split into sentences.",
    )
    initial_prompt: str | None = Field(
        default=None,
        max_length=PROMPT_LIMIT,
        sa_type=sa.Text,
        description="Text that steers spelling and style (names, terms).",
    )
    speaker_mode: str = Field(
        default="off",
        max_length=16,
        description="Speaker labels (upload field `speakers`): off, auto (the count estimated, "
        "best-effort), 1-8 (that many speakers), or channels (a stereo file, one speaker per "
        "channel).",
        schema_extra={"json_schema_extra": {"enum": list(SPEAKER_MODES)}},
    )

    @field_validator("requested_language", mode="before")
    @classmethod
    def _known_language(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            if value in ("", "auto"):
                return None
            if value not in WHISPER_LANGUAGES:
                raise ValueError(f"Unknown language code {value!r}.")
        return value

    @field_validator("initial_prompt")
    @classmethod
    def _printable_prompt(cls, value: str | None) -> str | None:
        if value is not None and any(ch < " " and ch not in "\t\n\r" for ch in value):
            raise ValueError("The prompt must not contain control characters.")
        return value

    @field_validator("task")
    @classmethod
    def _known_task(cls, value: str) -> str:
        if value not in TASKS:
            raise ValueError(f"The task must be one of {', '.join(TASKS)}.")
        return value

    @field_validator("speaker_mode", mode="before")
    @classmethod
    def _known_speaker_mode(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in SPEAKER_MODES:
                raise ValueError("Give off, auto, a number of speakers from 1 to 8, or channels.")
        return value

    @field_validator("model")
    @classmethod
    def _offered_model(cls, value: str, info: ValidationInfo) -> str:
        offered: Sequence[str] | None = (info.context or {}).get("models")
        if offered is not None and value not in offered:
            raise ValueError(
                f"Model {value!r} is not offered here; available: {', '.join(offered)}."
            )
        return value


class UploadChoices(SQLModel):
    """Upload form fields that are not decoding options: where the outcome is reported and
    whether an identical earlier result may be reused. They are not kept as options of the job
    (the row keeps the resolved `webhook_url` and `reused_from`)."""

    callback_url: str | None = Field(
        default=None,
        max_length=URL_LIMIT,
        description="An http(s) URL that receives a signed POST (Standard Webhooks) when the "
        "job completes, fails or is cancelled; default: the key's WEBHOOK_URLS entry.",
    )
    dedup: bool = Field(
        default=True,
        description="Complete at once from an earlier completed transcription of the same "
        "file (sha256), model and options by the same owner; false always transcribes.",
    )
    priority: Literal["low", "normal", "high"] | None = Field(
        default=None,
        description="When the job starts against other waiting jobs of its model: every high "
        "job before every normal one, every normal before every low; default: the key's "
        "API_KEY_PRIORITIES entry, else normal.",
    )

    @field_validator("callback_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if any(ch <= " " or ch == "\x7f" for ch in value):
            raise ValueError("The URL must not contain spaces or control characters.")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 (raises on a malformed port)
        except ValueError as exc:
            raise ValueError(f"Not a URL: {exc}.") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("Give an http:// or https:// URL with a host.")
        return value


def form_name(option: str) -> str:
    return FORM_NAMES.get(option, option)


FORM_FIELDS = frozenset(
    [form_name(option) for option in JobOptions.model_fields] + list(UploadChoices.model_fields)
)
"""The upload form's text fields (besides `files`)."""


def refusal(options: JobOptions, *, multilingual: bool) -> InvalidRequest | None:
    """Why the job's model cannot do what it asks (None: it can). An English-only model
    transcribes English only: another language, or a translation, is refused rather than
    quietly run as English."""
    if multilingual:
        return None
    language = options.requested_language
    if language not in (None, "en"):
        return InvalidRequest(
            f"The model {options.model!r} understands English only; language {language!r} "
            "needs a multilingual model (see GET /api/models).",
            code="language_unsupported",
        )
    if options.task == "translate":
        return InvalidRequest(
            f"The model {options.model!r} understands English only and cannot translate; "
            "translation needs a multilingual model (see GET /api/models).",
            code="unsupported_option",
        )
    return None


def parse_form(
    fields: Mapping[str, str],
    *,
    models: Sequence[str],
    multilingual: Mapping[str, bool] | None = None,
) -> JobOptions:
    """The options of an upload form. Empty fields take their defaults; the first of `models`
    is the default model, and only those models are accepted. With `multilingual` (model →
    whether it is), options the chosen model cannot honour are refused (`refusal`)."""
    given = {option: fields.get(form_name(option), "") for option in JobOptions.model_fields}
    values: dict[str, Any] = {option: value.strip() for option, value in given.items()}
    values = {option: value for option, value in values.items() if value}
    values.setdefault("model", models[0])
    try:
        options = JobOptions.model_validate(values, context={"models": models})
    except ValidationError as exc:
        error = exc.errors()[0]
        option = str(error["loc"][0]) if error["loc"] else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InvalidRequest(
            f"The field {form_name(option)!r}: {message}",
            code=_ERROR_CODES.get(option, "invalid_field"),
        ) from None
    if multilingual is not None:
        refused = refusal(options, multilingual=multilingual.get(options.model, True))
        if refused is not None:
            raise refused
    return options


def parse_choices(fields: Mapping[str, str]) -> UploadChoices:
    """The upload's `callback_url`, `dedup` and `priority` fields (absent or empty: the
    defaults)."""
    values = {name: fields.get(name, "").strip() for name in UploadChoices.model_fields}
    try:
        return UploadChoices.model_validate({k: v for k, v in values.items() if v})
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        code = "invalid_callback_url" if name == "callback_url" else "invalid_field"
        raise InvalidRequest(f"The field {name!r}: {message}", code=code) from None


def form_schema() -> dict[str, Any]:
    """JSON schema of the options as upload form fields (for the OpenAPI document)."""
    schema = JobOptions.model_json_schema()
    fields = {form_name(option): prop for option, prop in schema["properties"].items()}
    return fields | UploadChoices.model_json_schema()["properties"]

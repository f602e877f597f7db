"""What a job is asked to do: every per-job option, defined once.

`JobOptions` is the upload form's options (parsed by `parse_form`), the option columns of the
`transcriptions` table (which inherits them), the options of the public Transcription shape and
of the worker's claim, and the input of `worker.transcriber.decode_options`. A new option is a
field here, a migration, and the code that uses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError, ValidationInfo, field_validator
from sqlmodel import Field, SQLModel

from core.errors import InvalidRequest
from core.languages import WHISPER_LANGUAGES

PROMPT_LIMIT = 1000
TASKS = ("transcribe", "translate")

FORM_NAMES = {"requested_language": "language"}
"""Options whose upload form field has another name than the option (the contract's names)."""

_ERROR_CODES = {
    "requested_language": "invalid_language",
    "model": "invalid_model",
    "task": "invalid_task",
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

    @field_validator("model")
    @classmethod
    def _offered_model(cls, value: str, info: ValidationInfo) -> str:
        offered: Sequence[str] | None = (info.context or {}).get("models")
        if offered is not None and value not in offered:
            raise ValueError(
                f"Model {value!r} is not offered here; available: {', '.join(offered)}."
            )
        return value


def form_name(option: str) -> str:
    return FORM_NAMES.get(option, option)


FORM_FIELDS = frozenset(form_name(option) for option in JobOptions.model_fields)
"""The upload form's text fields (besides `files`)."""


def parse_form(fields: Mapping[str, str], *, models: Sequence[str]) -> JobOptions:
    """The options of an upload form. Empty fields take their defaults; the first of `models`
    is the default model, and only those models are accepted."""
    given = {option: fields.get(form_name(option), "") for option in JobOptions.model_fields}
    values: dict[str, Any] = {option: value.strip() for option, value in given.items()}
    values = {option: value for option, value in values.items() if value}
    values.setdefault("model", models[0])
    try:
        return JobOptions.model_validate(values, context={"models": models})
    except ValidationError as exc:
        error = exc.errors()[0]
        option = str(error["loc"][0]) if error["loc"] else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InvalidRequest(
            f"The field {form_name(option)!r}: {message}",
            code=_ERROR_CODES.get(option, "invalid_field"),
        ) from None


def form_schema() -> dict[str, Any]:
    """JSON schema of the options as upload form fields (for the OpenAPI document)."""
    schema = JobOptions.model_json_schema()
    return {form_name(option): prop for option, prop in schema["properties"].items()}

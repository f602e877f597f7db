"""The job options: parsed from the upload form, stored, claimed and described once."""

from __future__ import annotations

import pytest

from core.errors import InvalidRequest
from core.languages import WHISPER_LANGUAGES
from core.models import Transcription
from core.options import JobOptions, form_schema, parse_form
from core.settings import Settings

pytestmark = pytest.mark.unit


def test_upload_options() -> None:
    models = Settings(allowed_models="small").models_allowed()  # type: ignore[arg-type]
    options = parse_form(
        {"language": "DE", "task": "translate", "word_timestamps": "true", "model": "small"},
        models=models,
    )
    assert (options.requested_language, options.task, options.word_timestamps, options.model) == (
        "de",
        "translate",
        True,
        "small",
    )
    assert parse_form({}, models=models).model == "tiny.en"
    assert parse_form({"language": "auto"}, models=models).requested_language is None
    assert parse_form({}, models=models).precise_timestamps is False
    assert parse_form({"precise_timestamps": "on"}, models=models).precise_timestamps is True
    for fields, code in [
        ({"language": "klingon"}, "invalid_language"),
        ({"task": "summarise"}, "invalid_task"),
        ({"vad": "maybe"}, "invalid_field"),
        ({"precise_timestamps": "sometimes"}, "invalid_field"),
        ({"model": "/etc"}, "invalid_model"),
        ({"initial_prompt": "x" * 1001}, "invalid_field"),
    ]:
        with pytest.raises(InvalidRequest) as error:
            parse_form(fields, models=models)
        assert error.value.code == code


def test_the_language_list_is_faster_whispers() -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert frozenset(_LANGUAGE_CODES) == WHISPER_LANGUAGES


def test_the_row_stores_every_option_and_gives_them_back() -> None:
    options = JobOptions(
        requested_language="fr",
        model="tiny.en",
        task="translate",
        word_timestamps=True,
        vad=True,
        precise_timestamps=True,
        initial_prompt="Names: Zoë, Ödön.",
    )
    row = Transcription(
        **options.model_dump(), filename="a.wav", storage_key="k", size_bytes=1, sha256="0"
    )
    assert set(JobOptions.model_fields) <= set(Transcription.__table__.columns.keys())
    assert row.options == options


def test_the_form_schema_names_every_option_by_its_form_field() -> None:
    assert set(form_schema()) == {
        "language",
        "model",
        "task",
        "word_timestamps",
        "vad",
        "precise_timestamps",
        "initial_prompt",
        "speakers",
        "callback_url",
        "dedup",
        "priority",
    }
    assert form_schema()["task"]["enum"] == ["transcribe", "translate"]

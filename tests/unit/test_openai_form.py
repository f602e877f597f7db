"""OpenAI's audio form read into job options, the text deltas of a stream, the error shape."""

from __future__ import annotations

import json

import pytest
from fastapi.responses import JSONResponse

from api.openai_compat.errors import OpenAIRequestError, applies, reshape, reshape_response
from api.openai_compat.form import read_request
from api.openai_compat.waiting import TextDeltas
from api.uploads import ReceivedForm
from core.errors import MediaError, RateLimited
from core.settings import Settings
from core.workers import PoolView

pytestmark = pytest.mark.unit

SETTINGS = Settings(whisper_model="tiny.en", allowed_models=["base"])
POOLS = PoolView(multilingual={"base": True})


def form(*pairs: tuple[str, str]) -> ReceivedForm:
    received = ReceivedForm()
    for name, value in pairs:
        received.fields[name] = value
        received.repeated.setdefault(name, []).append(value)
    return received


def read(*pairs: tuple[str, str], task: str = "transcribe"):  # type: ignore[no-untyped-def]
    return read_request(form(*pairs), task, POOLS, SETTINGS)


def test_whisper_1_is_the_default_model_and_the_fields_map_to_job_options() -> None:
    request = read(("model", "whisper-1"), ("prompt", "Names: Zoë, Ngozi."), ("language", "en"))
    assert request.options.model == "tiny.en"
    assert request.options.initial_prompt == "Names: Zoë, Ngozi."
    assert request.options.requested_language == "en"
    assert request.options.task == "transcribe"
    assert not request.options.word_timestamps
    assert (request.response_format, request.stream) == ("json", False)
    assert read(("model", "base"), task="translate").options.task == "translate"


def test_word_granularity_turns_on_word_timestamps_and_picks_the_lists() -> None:
    words = read(("response_format", "verbose_json"), ("timestamp_granularities[]", "word"))
    assert words.options.word_timestamps
    assert (words.words, words.segments) == (True, False)
    both = read(
        ("response_format", "verbose_json"),
        ("timestamp_granularities[]", "word"),
        ("timestamp_granularities[]", "segment"),
    )
    assert (both.words, both.segments) == (True, True)
    plain = read(("response_format", "verbose_json"))
    assert (plain.words, plain.segments, plain.options.word_timestamps) == (False, True, False)


@pytest.mark.parametrize(
    ("pairs", "param", "code"),
    [
        ((("temperature", "0.2"),), "temperature", "unsupported_value"),
        ((("temperature", "warm"),), "temperature", "invalid_type"),
        ((("response_format", "diarized_json"),), "response_format", "invalid_value"),
        ((("model", "gpt-4o-transcribe"),), "model", "model_not_found"),
        ((("language", "xx"),), "language", "invalid_language"),
        ((("language", "de"),), "language", "unsupported_language"),  # tiny.en: English only
        ((("prompt", "bell\x07"),), "prompt", "invalid_field"),
        ((("stream", "maybe"),), "stream", "invalid_type"),
        ((("timestamp_granularities[]", "word"),), "timestamp_granularities", "invalid_value"),
        (
            (("response_format", "verbose_json"), ("timestamp_granularities[]", "char")),
            "timestamp_granularities",
            "invalid_value",
        ),
    ],
)
def test_fields_outside_the_contract_name_their_param(
    pairs: tuple[tuple[str, str], ...], param: str, code: str
) -> None:
    with pytest.raises(OpenAIRequestError) as raised:
        read(*pairs)
    assert (raised.value.param, raised.value.code, raised.value.status_code) == (param, code, 400)


def test_temperature_zero_a_multilingual_model_and_stream_are_accepted() -> None:
    request = read(("temperature", "0"), ("model", "base"), ("language", "de"), ("stream", "true"))
    assert request.options.model == "base"
    assert request.options.requested_language == "de"
    assert request.stream


def test_deltas_concatenate_to_the_stripped_joined_segment_texts() -> None:
    texts = [" Hello there.", " ", " Second line. ", " Third\n", " end.  "]
    deltas = TextDeltas()
    out: list[str] = []
    for index, text in enumerate(texts):
        out += deltas.of([{"index": index, "text": text}])
    assert "".join(out) == "".join(texts).strip()
    assert out[0] == "Hello there."
    assert all(d == d.rstrip() and d for d in out)


def test_a_segment_already_sent_is_not_sent_again() -> None:
    deltas = TextDeltas()
    first = deltas.of([{"index": 1, "text": " b."}, {"index": 0, "text": " a."}])
    assert first == ["a.", " b."]
    assert deltas.of([{"index": 0, "text": " A again."}, {"index": 2, "text": " c."}]) == [" c."]


def test_errors_under_v1_take_openais_shape_and_statuses() -> None:
    assert applies("/v1/audio/transcriptions")
    assert applies("/v1")
    assert not applies("/v10/x")
    assert not applies("/api/transcriptions")
    status, body = reshape(422, {"error": {"code": "invalid_model", "message": "no"}})
    assert status == 400
    assert body == {
        "error": {
            "message": "no",
            "type": "invalid_request_error",
            "param": "model",
            "code": "invalid_model",
        }
    }
    status, body = reshape(401, {"error": {"code": "unauthorized", "message": "bad key"}})
    assert (status, body["error"]["type"], body["error"]["code"]) == (
        401,
        "authentication_error",
        "invalid_api_key",
    )
    assert reshape(429, {"error": {"code": "rate_limited", "message": ""}})[1]["error"]["type"] == (
        "rate_limit_error"
    )
    assert reshape(503, {"error": {"code": "x", "message": ""}})[1]["error"]["type"] == (
        "server_error"
    )


def test_a_native_error_response_keeps_its_headers_when_reshaped() -> None:
    native = JSONResponse(
        {"error": {"code": "rate_limited", "message": "slow down"}},
        status_code=429,
        headers={"Retry-After": "7"},
    )
    reshaped = reshape_response(native, RateLimited("slow down", retry_after=7))
    assert reshaped.status_code == 429
    assert reshaped.headers["retry-after"] == "7"
    assert json.loads(bytes(reshaped.body))["error"]["type"] == "rate_limit_error"
    media = JSONResponse({"error": {"code": "undecodable_audio", "message": "?"}}, status_code=415)
    bad_file = OpenAIRequestError("?", param="file", code="undecodable_audio")
    assert json.loads(bytes(reshape_response(media, bad_file).body))["error"]["param"] == "file"
    assert reshape_response(media, MediaError("?")).status_code == 400

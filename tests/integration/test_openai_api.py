"""The OpenAI-compatible API through the official `openai` SDK, against a running platform
with API keys: text, every response format, words, streaming, translations, models, errors."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.support.media import word_error_rate
from tests.support.private import PrivatePlatform, private_platform

pytestmark = pytest.mark.integration

ALICE = "alice-openai-key-0123456789"
BOB = "bob-openai-key-0123456789ab"
SPOKEN = (
    "Please send the quarterly report to the finance team before Friday. "
    "Our new office has a large kitchen and a quiet library. "
    "Everyone is welcome to visit on Monday afternoon."
)
MAX_WER = 0.15
# The SDK marks `audio.translations.create` deprecated (the endpoint is still part of
# OpenAI's API and of ours).
TRANSLATIONS_DEPRECATED = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def platform(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    with private_platform(
        run_dir / "openai",
        headers={"Authorization": f"Bearer {ALICE}"},
        API_KEYS=f"alice:{ALICE},bob:{BOB}",
    ) as running:
        yield running


def sdk(platform: PrivatePlatform, key: str = ALICE, **options: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{platform.base_url}/v1", api_key=key, **options)


@pytest.fixture(scope="module")
def clip(speech_file) -> Path:  # type: ignore[no-untyped-def]
    return Path(speech_file(SPOKEN, name="openai-office-news"))


def library(platform: PrivatePlatform, key: str = ALICE) -> list[dict[str, Any]]:
    with platform.client(headers={"Authorization": f"Bearer {key}"}) as client:
        response = client.get("/api/transcriptions", params={"limit": 200})
        response.raise_for_status()
        return list(response.json()["items"])


def test_transcription_returns_the_spoken_text_and_is_a_job_in_the_library(
    platform: PrivatePlatform, clip: Path
) -> None:
    with clip.open("rb") as file:
        raw = sdk(platform).audio.transcriptions.with_raw_response.create(
            model="whisper-1", file=file
        )
    result = raw.parse()
    wer = word_error_rate(SPOKEN, result.text)
    print(f"word error rate {wer:.3f}: {result.text!r}")
    assert wer <= MAX_WER
    assert result.usage is not None
    assert result.usage.type == "duration"
    mine = [job for job in library(platform) if job["id"] == raw.headers["x-transcription-id"]]
    assert mine[0]["text"] == result.text
    assert mine
    assert mine[0]["status"] == "completed"
    assert mine[0]["filename"] == clip.name
    assert mine[0]["model"] == "tiny.en"  # whisper-1 is the default model
    assert not [job for job in library(platform, BOB) if job["id"] == mine[0]["id"]]


def test_every_response_format(platform: PrivatePlatform, clip: Path) -> None:
    client = sdk(platform)
    answers = {}
    for fmt in ("json", "text", "srt", "vtt", "verbose_json"):
        with clip.open("rb") as file:
            answers[fmt] = client.audio.transcriptions.create(
                model="tiny.en", file=file, response_format=fmt
            )
    assert word_error_rate(SPOKEN, answers["json"].text) <= MAX_WER
    text = answers["text"]
    assert isinstance(text, str)
    assert text.strip() == answers["json"].text
    srt, vtt = answers["srt"], answers["vtt"]
    assert isinstance(srt, str)
    assert srt.startswith("1\n00:00:0")
    assert " --> " in srt
    assert isinstance(vtt, str)
    assert vtt.startswith("WEBVTT\n\n00:00:0")
    assert word_error_rate(SPOKEN, " ".join(_cue_texts(srt))) <= MAX_WER
    verbose = answers["verbose_json"]
    assert verbose.text == answers["json"].text
    assert verbose.language == "en"
    assert verbose.duration > 5
    assert verbose.segments
    assert not getattr(verbose, "words", None)
    starts = [s.start for s in verbose.segments]
    assert starts == sorted(starts)
    assert verbose.segments[-1].end <= verbose.duration + 0.5
    assert "".join(s.text for s in verbose.segments).strip() == verbose.text


def _cue_texts(srt: str) -> list[str]:
    return [block.split("\n", 2)[2] for block in srt.strip().split("\n\n")]


def test_word_timestamps(platform: PrivatePlatform, clip: Path) -> None:
    with clip.open("rb") as file:
        words_only = sdk(platform).audio.transcriptions.create(
            model="whisper-1",
            file=file,
            response_format="verbose_json",
            timestamp_granularities=["word"],
        )
    words = words_only.words or []
    assert word_error_rate(SPOKEN, " ".join(w.word for w in words)) <= MAX_WER
    assert all(w.start <= w.end for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert getattr(words_only, "segments", None) is None  # as OpenAI: only what was asked
    with clip.open("rb") as file:
        both = sdk(platform).audio.transcriptions.create(
            model="whisper-1",
            file=file,
            response_format="verbose_json",
            timestamp_granularities=["word", "segment"],
        )
    assert both.segments
    assert both.words
    assert len(both.words) == len(words)


def test_stream_yields_deltas_whose_concatenation_is_the_final_text(
    platform: PrivatePlatform, clip: Path
) -> None:
    with clip.open("rb") as file:
        stream = sdk(platform).audio.transcriptions.create(
            model="whisper-1", file=file, stream=True
        )
        events = list(stream)
    kinds = [event.type for event in events]
    assert kinds[-1] == "transcript.text.done"
    assert kinds.count("transcript.text.done") == 1
    deltas = [event.delta for event in events if event.type == "transcript.text.delta"]
    done = events[-1].text
    assert len(deltas) >= 2, kinds
    assert "".join(deltas) == done
    assert word_error_rate(SPOKEN, done) <= MAX_WER
    job = next(job for job in library(platform) if job["text"] == done)
    with platform.client() as client:
        detail = client.get(f"/api/transcriptions/{job['id']}").json()
    assert len(deltas) == len([s for s in detail["segments"] if s["text"].strip()])


@TRANSLATIONS_DEPRECATED
def test_translation_with_an_english_only_model_is_a_bad_request(
    platform: PrivatePlatform, clip: Path
) -> None:
    with clip.open("rb") as file, pytest.raises(openai.BadRequestError) as refused:
        sdk(platform).audio.translations.create(model="whisper-1", file=file)
    assert "translate" in str(refused.value)


@TRANSLATIONS_DEPRECATED
def test_another_language_on_an_english_only_model_is_a_bad_request(
    platform: PrivatePlatform, clip: Path
) -> None:
    before = len(library(platform))
    client = sdk(platform)
    with clip.open("rb") as file, pytest.raises(openai.BadRequestError) as raised:
        client.audio.translations.create(
            model="whisper-1", file=file, extra_body={"language": "de"}
        )
    assert raised.value.status_code == 400
    assert raised.value.param == "language"
    with clip.open("rb") as file, pytest.raises(openai.BadRequestError) as raised:
        client.audio.transcriptions.create(model="whisper-1", file=file, language="fr")
    assert raised.value.code == "unsupported_language"
    assert len(library(platform)) == before  # refused before any job was made


def test_an_invalid_key_is_an_authentication_error(platform: PrivatePlatform, clip: Path) -> None:
    client = sdk(platform, key="not-a-key-of-this-platform")
    with clip.open("rb") as file, pytest.raises(openai.AuthenticationError) as raised:
        client.audio.transcriptions.create(model="whisper-1", file=file)
    body = raised.value.body
    assert isinstance(body, dict)
    assert set(body) == {"message", "type", "param", "code"}
    assert body["code"] == "invalid_api_key"
    assert body["type"] == "authentication_error"
    with pytest.raises(openai.AuthenticationError):
        client.models.list()
    # The native API keeps its own shape.
    response = httpx.get(f"{platform.base_url}/api/transcriptions")
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message"}


def test_a_bad_file_is_a_bad_request(platform: PrivatePlatform, tmp_path: Path) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio at all\n" * 50)
    with bad.open("rb") as file, pytest.raises(openai.BadRequestError) as raised:
        sdk(platform).audio.transcriptions.create(model="whisper-1", file=file)
    assert raised.value.param == "file"
    assert raised.value.type == "invalid_request_error"


def test_fields_outside_the_contract_are_bad_requests(
    platform: PrivatePlatform, clip: Path
) -> None:
    client = sdk(platform)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"temperature": 0.4}, "temperature"),
        ({"response_format": "diarized_json"}, "response_format"),
        ({"model": "no-such-model"}, "model"),
        ({"timestamp_granularities": ["word"]}, "timestamp_granularities"),  # needs verbose_json
    ]
    for fields, param in cases:
        arguments = {"model": "whisper-1", **fields}
        with clip.open("rb") as file, pytest.raises(openai.BadRequestError) as raised:
            client.audio.transcriptions.create(file=file, **arguments)
        assert raised.value.param == param, fields
    with clip.open("rb") as file:
        zero = client.audio.transcriptions.create(model="whisper-1", file=file, temperature=0)
    assert word_error_rate(SPOKEN, zero.text) <= MAX_WER


def test_models_list_in_openais_shape(platform: PrivatePlatform) -> None:
    listed = sdk(platform).models.list()
    ids = [model.id for model in listed.data]
    assert ids[:2] == ["whisper-1", "tiny.en"]
    assert all(model.object == "model" and model.owned_by for model in listed.data)
    assert sdk(platform).models.retrieve("whisper-1").id == "whisper-1"
    with pytest.raises(openai.NotFoundError):
        sdk(platform).models.retrieve("gpt-nothing")
    with platform.client() as client:
        unknown = client.get("/v1/no/such/endpoint")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["type"] == "invalid_request_error"


def test_csv_download_of_a_transcript(platform: PrivatePlatform, clip: Path) -> None:
    with clip.open("rb") as file:
        raw = sdk(platform).audio.transcriptions.with_raw_response.create(
            model="whisper-1", file=file
        )
    job_id = raw.headers["x-transcription-id"]
    with platform.client() as client:
        detail = client.get(f"/api/transcriptions/{job_id}").json()
        response = client.get(f"/api/transcriptions/{job_id}/transcript", params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="')
    rows = list(csv.reader(io.StringIO(response.text, newline="")))
    assert rows[0] == ["start", "end", "speaker", "text"]
    assert [row[3] for row in rows[1:]] == [s["text"].strip() for s in detail["segments"]]
    assert [float(row[0]) for row in rows[1:]] == [round(s["start"], 3) for s in detail["segments"]]
    assert {row[2] for row in rows[1:]} == {""}

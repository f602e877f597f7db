"""Deduplication: the same file, model and options from the same owner is completed at once
from the earlier transcription; dedup=false, another owner or other options transcribe."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.support.private import PrivatePlatform, private_platform
from tests.support.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.integration

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ANN = "ann-key-0123456789abcdef"
BOB = "bob-key-0123456789abcdef"


@dataclass
class Library:
    platform: PrivatePlatform
    receiver: Receiver
    clip: Path
    original: dict[str, Any]
    """ann's first, transcribed upload of `clip`."""

    def upload(self, name: str, key: str = ANN, **fields: str) -> dict[str, Any]:
        with self.platform.client(headers={"Authorization": f"Bearer {key}"}) as client:
            answer = client.post(
                "/api/transcriptions",
                files=[("files", (name, self.clip.read_bytes()))],
                data=fields,
            )
        assert answer.status_code == 202, answer.text
        return dict(answer.json()["items"][0])

    def detail(self, job_id: str, key: str = ANN) -> dict[str, Any]:
        with self.platform.client(headers={"Authorization": f"Bearer {key}"}) as client:
            answer = client.get(f"/api/transcriptions/{job_id}")
        answer.raise_for_status()
        return dict(answer.json())


@pytest.fixture(scope="module")
def library(
    migrated_db: str,
    run_dir: Path,
    speech_file,  # type: ignore[no-untyped-def]
) -> Iterator[Library]:
    clip = Path(speech_file("The same recording arrives twice from the same owner.", name="dup"))
    with (
        webhook_receiver() as receiver,
        private_platform(
            run_dir / "dedup",
            headers={"Authorization": f"Bearer {ANN}"},
            API_KEYS=f"ann:{ANN},bob:{BOB}",
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
            WEBHOOK_POLL_SECONDS="0.1",
        ) as platform,
    ):
        library = Library(platform, receiver, clip, {})
        first = library.upload("first.wav")
        library.original = platform.wait_status(first["id"])
        assert library.original["status"] == "completed"
        yield library


def test_the_same_file_and_options_is_completed_at_once_from_the_earlier_result(
    library: Library,
) -> None:
    original = library.original
    item = library.upload("second.wav", callback_url=library.receiver.url("/reused"))
    assert item["status"] == "completed"
    assert item["reused_from"] == original["id"]
    assert item["id"] != original["id"]
    assert item["filename"] == "second.wav"
    assert item["text"] == original["text"]
    assert item["language"] == original["language"]
    again = library.detail(item["id"])
    assert [(s["start"], s["end"], s["text"]) for s in again["segments"]] == [
        (s["start"], s["end"], s["text"]) for s in original["segments"]
    ]
    assert again["segments"]
    assert again["progress"] == 1.0
    # The reused completion fires its webhook like any other.
    [request] = library.receiver.wait_for(1)
    message = Webhook(SECRET).verify(request.body, request.headers)
    assert message["type"] == "transcription.completed"
    assert message["data"]["id"] == item["id"]
    assert message["data"]["reused_from"] == original["id"]


def test_the_reused_job_keeps_its_own_media_when_the_original_is_deleted(
    library: Library,
) -> None:
    item = library.upload("third.wav")
    assert item["reused_from"] == library.original["id"]
    source = library.upload("source-to-delete.wav", dedup="false")
    source = library.platform.wait_status(source["id"])
    copy = library.upload("copy.wav")
    with library.platform.client() as client:
        assert client.delete(f"/api/transcriptions/{copy['reused_from']}").status_code == 204
        media = client.get(f"/api/transcriptions/{copy['id']}/audio")
    assert media.status_code == 200
    assert media.content == library.clip.read_bytes()
    assert library.detail(copy["id"])["text"] == source["text"]


def test_dedup_false_transcribes_again(library: Library) -> None:
    item = library.upload("fresh.wav", dedup="false")
    assert item["status"] == "queued"
    assert item["reused_from"] is None
    done = library.platform.wait_status(item["id"])
    assert done["status"] == "completed"
    assert done["reused_from"] is None


def test_another_owners_identical_upload_is_not_reused(library: Library) -> None:
    item = library.upload("bobs.wav", key=BOB)
    assert item["status"] == "queued"
    assert item["reused_from"] is None


@pytest.mark.parametrize(
    "fields",
    [{"word_timestamps": "true"}, {"initial_prompt": "Recording."}, {"language": "en"}],
    ids=json.dumps,
)
def test_other_options_are_not_reused(library: Library, fields: dict[str, str]) -> None:
    item = library.upload("other-options.wav", **fields)
    assert item["status"] == "queued"
    assert item["reused_from"] is None


def test_a_bad_dedup_value_is_422(library: Library) -> None:
    with library.platform.client() as client:
        answer = client.post(
            "/api/transcriptions",
            files=[("files", ("x.wav", library.clip.read_bytes()))],
            data={"dedup": "perhaps"},
        )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_field"

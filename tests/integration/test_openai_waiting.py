"""An OpenAI request waits for its job without holding it: past OPENAI_WAIT_SECONDS it
answers with the job's id, a client that leaves leaves the job to finish, and nothing of
the wait is left behind."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.support.private import PrivatePlatform, private_platform
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

KEY = "dana-openai-key-0123456789"
ADMIN = "ops-openai-key-0123456789a"
SPOKEN = "Our new office has a large kitchen and a quiet library."


def idle_platform(run_dir: Path, wait_seconds: str) -> Iterator[PrivatePlatform]:
    """An API whose jobs wait: no worker until the test starts one."""
    with private_platform(
        run_dir / "openai-waiting",
        workers=0,
        headers={"Authorization": f"Bearer {ADMIN}"},
        API_KEYS=f"dana:{KEY}",
        ADMIN_API_KEYS=f"ops:{ADMIN}",
        OPENAI_WAIT_SECONDS=wait_seconds,
    ) as running:
        yield running


@pytest.fixture
def idle(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    yield from idle_platform(run_dir, "2")


@pytest.fixture
def patient(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    yield from idle_platform(run_dir, "600")


def sdk(platform: PrivatePlatform) -> openai.OpenAI:
    """A client of the platform (close it: a client left open warns when it is collected)."""
    return openai.OpenAI(base_url=f"{platform.base_url}/v1", api_key=KEY)


def waiting_clients(platform: PrivatePlatform) -> float:
    with platform.client() as client:
        text = client.get("/metrics").text
    found = re.search(r"^soundscripter_sse_clients (\S+)$", text, re.M)
    assert found, "the metric of live subscriptions is missing"
    return float(found.group(1))


def job_count(platform: PrivatePlatform) -> int:
    with platform.client() as client:
        return len(client.get("/api/transcriptions", params={"limit": 200}).json()["items"])


def test_a_job_past_the_wait_is_answered_with_its_id_then_finishes_in_the_library(
    idle: PrivatePlatform,
    speech_file,  # type: ignore[no-untyped-def]
) -> None:
    clip = Path(speech_file(SPOKEN, name="openai-waits"))
    before = job_count(idle)
    with (
        sdk(idle) as client,
        clip.open("rb") as file,
        pytest.raises(openai.InternalServerError) as raised,
    ):
        client.audio.transcriptions.create(model="whisper-1", file=file)
    error = raised.value
    assert error.status_code == 504
    assert error.code == "transcription_pending"
    assert error.response.headers["x-should-retry"] == "false"
    body = error.body
    assert isinstance(body, dict)
    job_id = body["transcription_id"]
    assert body["url"] == f"/api/transcriptions/{job_id}" == error.response.headers["location"]
    assert job_count(idle) == before + 1  # the SDK did not retry the upload

    with sdk(idle) as client, clip.open("rb") as file:
        stream = client.audio.transcriptions.create(model="whisper-1", file=file, stream=True)
        with pytest.raises(openai.APIError) as streamed:
            list(stream)
    assert isinstance(streamed.value.body, dict)
    assert streamed.value.body["code"] == "transcription_pending"
    streamed_id = streamed.value.body["transcription_id"]

    idle.start_worker()
    idle.wait_worker()
    for job in (job_id, streamed_id):
        done = idle.wait_status(job)
        assert done["status"] == "completed"
        assert "kitchen" in done["text"].lower()


def test_a_client_that_leaves_ends_the_wait_and_its_job_goes_on(
    patient: PrivatePlatform,
    speech_file,  # type: ignore[no-untyped-def]
) -> None:
    clip = Path(speech_file(SPOKEN, name="openai-leaves"))
    request = httpx.Request(
        "POST",
        f"{patient.base_url}/v1/audio/transcriptions",
        headers={"Authorization": f"Bearer {KEY}", "Connection": "close"},
        files={"file": (clip.name, clip.read_bytes())},
        data={"model": "whisper-1"},
    )
    head = (
        f"POST {request.url.raw_path.decode()} HTTP/1.1\r\nHost: {request.url.netloc.decode()}\r\n"
    )
    head += "".join(f"{k}: {v}\r\n" for k, v in request.headers.items() if k.lower() != "host")
    with socket.create_connection(("127.0.0.1", patient.api_port)) as connection:
        connection.sendall(head.encode() + b"\r\n" + request.read())
        wait_until(lambda: waiting_clients(patient) == 1, 30, 0.2, "the request to wait")
    # The wait (600 s here) ends with the connection, not with its limit.
    wait_until(lambda: waiting_clients(patient) == 0, 30, 0.2, "the wait to end")
    with patient.client() as client:
        (job,) = client.get("/api/transcriptions").json()["items"]
    assert job["status"] == "queued"
    patient.start_worker()
    patient.wait_worker()
    done = patient.wait_status(job["id"])
    assert done["status"] == "completed"
    assert "kitchen" in done["text"].lower()

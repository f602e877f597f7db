"""A webhook survives its API process: the message is committed with the state change, so
an API killed (SIGKILL) before sending it delivers it once it is started again."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select
from standardwebhooks import Webhook

from core.models import WebhookDelivery
from tests.support.private import PrivatePlatform, private_platform
from tests.support.waiting import wait_until
from tests.support.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.faults

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
def platform(migrated_db: str, run_dir: Path, receiver: Receiver) -> Iterator[PrivatePlatform]:
    """An API whose sender looks for due messages only once an hour (right after it starts),
    so a message committed after its start stays unsent until the API is killed; and a
    worker."""
    with private_platform(
        run_dir / "webhook-restart",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
        WEBHOOK_URLS=f"*={receiver.url('/default')}",
        WEBHOOK_POLL_SECONDS="3600",
    ) as platform:
        yield platform


def _pending(platform: PrivatePlatform, job_id: str) -> list[WebhookDelivery]:
    with platform.session() as session:
        return list(
            session.exec(
                select(WebhookDelivery).where(
                    WebhookDelivery.transcription_id == uuid.UUID(job_id),
                    WebhookDelivery.status == "pending",
                )
            ).all()
        )


def _restart_api(platform: PrivatePlatform) -> None:
    platform.env["WEBHOOK_POLL_SECONDS"] = "0.1"
    platform.start_api()
    platform.wait_ready()


def _one_delivery(receiver: Receiver, job_id: str, event: str) -> None:
    [request] = receiver.wait_for(1)
    message = Webhook(SECRET).verify(request.body, request.headers)
    assert message["type"] == event
    assert message["data"]["id"] == job_id


def test_an_api_killed_after_a_cancel_delivers_its_webhook_after_a_restart(
    platform: PrivatePlatform,
    receiver: Receiver,
    speech_file,  # type: ignore[no-untyped-def]
) -> None:
    platform.processes["worker"].stop()  # the job must stay queued until it is cancelled
    clip = speech_file("Cancelled before anyone heard it.", name="killed-api")
    job_id = platform.upload(clip).json()["items"][0]["id"]
    with platform.client() as client:
        assert client.post(f"/api/transcriptions/{job_id}/cancel").status_code == 200
    platform.processes["api"].stop(signal.SIGKILL)
    assert len(_pending(platform, job_id)) == 1
    assert receiver.requests == []

    _restart_api(platform)
    _one_delivery(receiver, job_id, "transcription.cancelled")
    wait_until(lambda: not _pending(platform, job_id), 30, 0.1, "the message to be delivered")
    assert len(receiver.requests) == 1


def test_a_job_completed_while_the_api_is_dead_is_delivered_once_it_is_back(
    platform: PrivatePlatform,
    receiver: Receiver,
    speech_file,  # type: ignore[no-untyped-def]
) -> None:
    clip = speech_file("The worker finished this while the gateway was down.", name="no-api")
    job_id = platform.upload(clip).json()["items"][0]["id"]
    platform.processes["api"].stop(signal.SIGKILL)
    wait_until(lambda: platform.job_row(job_id)["status"] == "completed", 120, 0.2, "the worker")
    assert len(_pending(platform, job_id)) == 1
    assert receiver.requests == []

    _restart_api(platform)
    _one_delivery(receiver, job_id, "transcription.completed")
    [request] = receiver.requests
    assert "gateway" in Webhook(SECRET).verify(request.body, request.headers)["data"]["text"]

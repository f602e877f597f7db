"""Webhooks against a receiver on loopback: Standard Webhooks signatures, retries with
backoff until one accepted delivery, a final failed state in the API, refused targets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from standardwebhooks import Webhook, WebhookVerificationError

from core.models import Transcription
from tests.support.private import PrivatePlatform, private_platform
from tests.support.waiting import wait_until
from tests.support.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.integration

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ANN = "ann-key-0123456789abcdef"
BOB = "bob-key-0123456789abcdef"
ATTEMPTS = 4  # WEBHOOK_RETRY_SECONDS below has three entries


@dataclass
class Hooks:
    platform: PrivatePlatform
    receiver: Receiver

    def client(self, key: str = ANN) -> Any:
        return self.platform.client(headers={"Authorization": f"Bearer {key}"})

    def queued_then_cancelled(self, clip: Path, key: str = ANN, **fields: str) -> str:
        """Upload (no worker serves this platform's queue, so the job waits) and cancel."""
        with self.client(key) as client:
            answer = client.post(
                "/api/transcriptions",
                files=[("files", (clip.name, clip.read_bytes()))],
                data=fields,
            )
            assert answer.status_code == 202, answer.text
            job_id = str(answer.json()["items"][0]["id"])
            assert client.post(f"/api/transcriptions/{job_id}/cancel").status_code == 200
        return job_id

    def deliveries(self, job_id: str, key: str = ANN) -> list[dict[str, Any]]:
        with self.client(key) as client:
            answer = client.get(f"/api/transcriptions/{job_id}/webhooks")
            answer.raise_for_status()
            return list(answer.json()["items"])

    def settled(self, job_id: str, key: str = ANN) -> dict[str, Any]:
        """The job's one webhook message once it is no longer pending."""

        def done() -> dict[str, Any] | None:
            items = self.deliveries(job_id, key)
            return items[0] if items and items[0]["status"] != "pending" else None

        return wait_until(done, 60, 0.1, f"the webhook of {job_id} to settle")


@pytest.fixture(scope="module")
def hooks(migrated_db: str, run_dir: Path) -> Iterator[Hooks]:
    with (
        webhook_receiver() as receiver,
        private_platform(
            run_dir / "webhooks",
            workers=0,
            headers={"Authorization": f"Bearer {ANN}"},
            API_KEYS=f"ann:{ANN},bob:{BOB}",
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
            # bob's default names the receiver as `localhost`, which is not allowed.
            WEBHOOK_URLS=f"ann={receiver.url('/ann')},bob={receiver.url('/bob', 'localhost')}",
            WEBHOOK_RETRY_SECONDS="0.2,0.4,0.8",
            WEBHOOK_POLL_SECONDS="0.1",
        ) as platform,
    ):
        yield Hooks(platform, receiver)


@pytest.fixture
def clip(speech_file) -> Path:  # type: ignore[no-untyped-def]
    return Path(speech_file("A webhook tells the receiver when this ends.", name="hook"))


def _for(receiver: Receiver, job_id: str) -> list[Any]:
    return [r for r in receiver.requests if json.loads(r.body)["data"]["id"] == job_id]


def test_a_cancelled_job_posts_a_signed_message_that_the_specification_verifies(
    hooks: Hooks, clip: Path
) -> None:
    job_id = hooks.queued_then_cancelled(clip, callback_url=hooks.receiver.url("/signed"))
    assert hooks.settled(job_id)["status"] == "delivered"
    [request] = _for(hooks.receiver, job_id)
    assert request.path == "/signed"
    message = Webhook(SECRET).verify(request.body, request.headers)
    assert message["type"] == "transcription.cancelled"
    assert message["data"]["id"] == job_id
    assert message["data"]["status"] == "cancelled"
    assert message["data"]["filename"] == clip.name
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(request.body.replace(b"cancelled", b"completed"), request.headers)
    other = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(request.body, request.headers)


def test_a_receiver_failing_three_times_then_accepting_gets_exactly_one_accepted_delivery(
    hooks: Hooks, clip: Path
) -> None:
    hooks.receiver.answers.extend([500, 503, 500])
    job_id = hooks.queued_then_cancelled(clip, callback_url=hooks.receiver.url("/flaky"))
    delivery = hooks.settled(job_id)
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 4
    assert delivery["last_status_code"] == 204
    assert delivery["last_error"] is None
    requests = _for(hooks.receiver, job_id)
    assert [r.answered for r in requests] == [500, 503, 500, 204]
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    assert requests[0].headers["webhook-id"] == delivery["id"]
    assert {r.body for r in requests} == {requests[0].body}
    for request in requests:
        Webhook(SECRET).verify(request.body, request.headers)


def test_every_attempt_failing_ends_failed_with_the_last_error_in_the_api(
    hooks: Hooks, clip: Path
) -> None:
    hooks.receiver.answers.extend([500] * ATTEMPTS)
    job_id = hooks.queued_then_cancelled(clip, callback_url=hooks.receiver.url("/down"))
    delivery = hooks.settled(job_id)
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == ATTEMPTS
    assert delivery["last_status_code"] == 500
    assert "HTTP 500" in delivery["last_error"]
    assert delivery["next_attempt_at"] is None
    assert len(_for(hooks.receiver, job_id)) == ATTEMPTS


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(
    hooks: Hooks, clip: Path
) -> None:
    hooks.receiver.answers.append(302)
    job_id = hooks.queued_then_cancelled(clip, callback_url=hooks.receiver.url("/moved"))
    delivery = hooks.settled(job_id)
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 2
    assert [r.path for r in _for(hooks.receiver, job_id)] == ["/moved", "/moved"]


def test_the_owners_default_url_receives_uploads_without_a_callback_url(
    hooks: Hooks, clip: Path
) -> None:
    job_id = hooks.queued_then_cancelled(clip)
    assert hooks.settled(job_id)["status"] == "delivered"
    assert [r.path for r in _for(hooks.receiver, job_id)] == ["/ann"]


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/hook",
        "http://192.168.0.10:8080/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]:9/hook",
        "http://localhost:9/hook",
        "http://100.64.0.1/hook",
    ],
)
def test_a_private_loopback_or_link_local_target_is_refused_at_upload(
    hooks: Hooks, clip: Path, url: str
) -> None:
    with hooks.client() as client:
        answer = client.post(
            "/api/transcriptions",
            files=[("files", (clip.name, clip.read_bytes()))],
            data={"callback_url": url},
        )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "callback_url_refused"
    with hooks.platform.session() as session:
        rows = session.exec(select(Transcription).where(Transcription.webhook_url == url)).all()
    assert rows == []


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.org/hook", "invalid_callback_url"),
        ("http:///nohost", "invalid_callback_url"),
        ("http://exa mple.org/", "invalid_callback_url"),
        ("http://no-such-host.invalid/hook", "invalid_callback_url"),
    ],
)
def test_a_malformed_or_unresolvable_callback_url_is_422(
    hooks: Hooks, clip: Path, url: str, code: str
) -> None:
    with hooks.client() as client:
        answer = client.post(
            "/api/transcriptions",
            files=[("files", (clip.name, clip.read_bytes()))],
            data={"callback_url": url},
        )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == code


def test_a_delivery_checks_the_address_it_connects_to_and_refuses_a_private_one(
    hooks: Hooks, clip: Path
) -> None:
    """bob's default URL is only checked when sent: `localhost` resolves to loopback and is
    not an allowed host, so the message fails at once and the receiver hears nothing."""
    job_id = hooks.queued_then_cancelled(clip, key=BOB)
    delivery = hooks.settled(job_id, key=BOB)
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == 1
    assert "loopback" in delivery["last_error"]
    assert _for(hooks.receiver, job_id) == []
    assert not [r for r in hooks.receiver.requests if r.path == "/bob"]


def test_another_owner_cannot_read_the_webhooks_of_a_job(hooks: Hooks, clip: Path) -> None:
    job_id = hooks.queued_then_cancelled(clip, callback_url=hooks.receiver.url("/mine"))
    with hooks.client(BOB) as client:
        assert client.get(f"/api/transcriptions/{job_id}/webhooks").status_code == 404

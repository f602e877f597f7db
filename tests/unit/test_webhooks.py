"""Webhook settings, targets, signatures and the search text split (no services)."""

from __future__ import annotations

import ipaddress
import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook

from core import webhooks
from core.errors import InvalidRequest
from core.models import Transcription
from core.options import parse_choices
from core.search import split_query
from core.settings import Settings
from core.webhook_delivery import host_header, pinned_url

pytestmark = pytest.mark.unit

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_signed_headers_verify_with_the_specifications_implementation() -> None:
    body = json.dumps({"type": "transcription.completed", "data": {"id": "x"}})
    headers = webhooks.signed_headers(SECRET, "msg_1", body, datetime.now(UTC))
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(SECRET).verify(body, headers)["data"] == {"id": "x"}


def test_the_payload_names_the_event_and_carries_the_outcome() -> None:
    job = Transcription(
        id=uuid.uuid4(),
        filename="a.wav",
        storage_key="k",
        size_bytes=1,
        sha256="0",
        model="tiny.en",
        status="failed",
        error_code="undecodable_audio",
        error_message="No audio.",
        last_seq=3,
    )
    message = json.loads(webhooks.payload(job, datetime(2026, 1, 2, tzinfo=UTC)))
    assert message["type"] == "transcription.failed"
    assert message["timestamp"] == "2026-01-02T00:00:00Z"
    assert message["data"]["error"] == {"code": "undecodable_audio", "message": "No audio."}
    assert message["data"]["id"] == str(job.id)
    assert message["data"]["seq"] == 3


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:93.184.216.34", True),
    ],
)
def test_only_public_addresses_are_targets(address: str, public: bool) -> None:
    assert webhooks.public(ipaddress.ip_address(address)) is public


def test_an_allowed_host_may_be_private() -> None:
    url = "http://receiver.internal:8080/hook"
    private = [ipaddress.ip_address("10.0.0.5")]
    webhooks.check_addresses(url, private, ["receiver.internal"])
    with pytest.raises(InvalidRequest) as refused:
        webhooks.check_addresses(url, private, ["other.internal"])
    assert refused.value.code == "callback_url_refused"


def test_the_job_reports_to_its_own_url_else_its_owners_else_the_catch_all() -> None:
    settings = Settings(
        webhook_secret=SECRET,
        webhook_urls=["ann=https://ann.example/hook", "*=https://all.example/hook"],
    )
    assert webhooks.target_for(settings, "https://own.example/", "ann") == "https://own.example/"
    assert webhooks.target_for(settings, None, "ann") == "https://ann.example/hook"
    assert webhooks.target_for(settings, None, "bob") == "https://all.example/hook"
    assert webhooks.target_for(Settings(), None, "ann") is None


@pytest.mark.parametrize(
    "fields",
    [
        {"webhook_secret": "not-a-secret"},
        {"webhook_secret": "whsec_c2hvcnQ="},  # 5 bytes
        {"webhook_urls": ["ann=https://ann.example/hook"]},  # no secret to sign with
        {"webhook_secret": SECRET, "webhook_urls": ["https://no-owner.example/"]},
        {"webhook_secret": SECRET, "webhook_urls": ["ann=ftp://ann.example/"]},
    ],
)
def test_bad_webhook_settings_are_refused_at_start(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**fields)  # type: ignore[arg-type]


def test_the_retry_schedule_is_read_from_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBHOOK_RETRY_SECONDS", "1, 2.5,60")
    assert Settings().webhook_retry_seconds == [1.0, 2.5, 60.0]


@pytest.mark.parametrize(
    ("url", "address", "pinned", "host"),
    [
        ("https://h.example/a?b=1", "93.184.216.34", "https://93.184.216.34/a?b=1", "h.example"),
        ("http://u:p@h.example:81", "192.0.2.1", "http://u:p@192.0.2.1:81/", "h.example:81"),
        ("http://h.example/x", "2001:db8::1", "http://[2001:db8::1]/x", "h.example"),
    ],
)  # fmt: skip
def test_a_delivery_connects_to_the_checked_address_and_names_the_host(
    url: str, address: str, pinned: str, host: str
) -> None:
    assert pinned_url(url, ipaddress.ip_address(address)) == pinned
    assert host_header(url) == host


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"callback_url": "javascript:alert(1)"}, "invalid_callback_url"),
        ({"callback_url": "http://a b/"}, "invalid_callback_url"),
        ({"callback_url": "http://h.example:99999/"}, "invalid_callback_url"),
        ({"callback_url": "http://h.example/" + "x" * 2000}, "invalid_callback_url"),
        ({"dedup": "maybe"}, "invalid_field"),
    ],
)
def test_bad_upload_choices_are_422(fields: dict[str, str], code: str) -> None:
    with pytest.raises(InvalidRequest) as error:
        parse_choices(fields)
    assert error.value.code == code


def test_upload_choices_default_to_no_callback_and_dedup() -> None:
    choices = parse_choices({"dedup": "false", "callback_url": " https://h.example/x "})
    assert choices.dedup is False
    assert choices.callback_url == "https://h.example/x"
    assert parse_choices({}).dedup is True
    assert parse_choices({}).callback_url is None


@pytest.mark.parametrize(
    ("text", "head", "word", "either"),
    [
        ("choco", "", "choco", False),
        ("chocolate cake", "chocolate ", "cake", False),
        ("chocolate ", "chocolate ", None, False),
        ('"chocolate cake', '"chocolate cake', None, False),
        ('"chocolate cake" sa', '"chocolate cake" ', "sa", False),
        ("cake -choc", "cake -choc", None, False),
        ("cake or choc", "cake", "choc", True),
        ("cake or", "cake or", None, False),
        ("don't", "don't", None, False),
        ("été", "", "été", False),
    ],
)
def test_the_last_word_is_split_off_only_while_it_is_being_typed(
    text: str, head: str, word: str | None, either: bool
) -> None:
    parts = split_query(text)
    assert (parts.head, parts.word, parts.either) == (head, word, either)

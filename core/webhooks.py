"""Webhooks: where a job's outcome goes, what is sent, and which targets are refused.

A job's `webhook_url` is fixed at upload (its `callback_url`, else its owner's WEBHOOK_URLS
entry). The transaction that moves the job into a terminal state also inserts its message
into the `webhook_deliveries` outbox (`record`), so a message exists exactly when the state
change does; `core.webhook_delivery` sends it. Messages are signed per the Standard Webhooks
specification by the `standardwebhooks` package.

Targets whose address is private, loopback, link-local or otherwise not public are refused
(`check_addresses`), at upload and again for the address a delivery connects to, unless the
URL's host is listed in WEBHOOK_ALLOWED_HOSTS.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from sqlmodel import Session
from standardwebhooks import Webhook

from core.errors import InvalidRequest
from core.models import Transcription, WebhookDelivery, utcnow
from core.settings import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedTarget(InvalidRequest):
    code = "callback_url_refused"


def target_for(settings: Settings, callback_url: str | None, owner: str | None) -> str | None:
    """The URL a new job reports to: its own, else its owner's default, else none."""
    if callback_url:
        return callback_url
    defaults = settings.webhook_defaults()
    return defaults.get(owner or "", defaults.get("*"))


def host_allowed(url: str, allowed_hosts: Sequence[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host in allowed_hosts


def public(address: Address) -> bool:
    """Whether an address is on the public internet (an IPv4-mapped IPv6 address counts as
    the IPv4 address it carries)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(url: str) -> list[Address]:
    """Every address the URL's host resolves to (blocking DNS). Raises OSError when it does
    not resolve."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = socket.getaddrinfo(parts.hostname or "", port, type=socket.SOCK_STREAM)
    found = [ipaddress.ip_address(info[4][0]) for info in infos]
    return list(dict.fromkeys(found))


def check_addresses(url: str, addresses: Sequence[Address], allowed_hosts: Sequence[str]) -> None:
    """Refuse a target with any address that is not public, unless its host is allowed."""
    if host_allowed(url, allowed_hosts):
        return
    for address in addresses:
        if not public(address):
            raise RefusedTarget(
                f"The callback URL's host resolves to {address}, a private, loopback or "
                "link-local address; list the host in WEBHOOK_ALLOWED_HOSTS to allow it."
            )


def check_target(settings: Settings, url: str) -> None:
    """At upload: the callback URL must resolve, to public addresses only (or be allowed)."""
    if not settings.webhook_secret:
        raise InvalidRequest(
            "Webhooks are not enabled here (no WEBHOOK_SECRET).", code="webhooks_disabled"
        )
    if host_allowed(url, settings.webhook_allowed_hosts):
        return
    try:
        addresses = resolve(url)
    except (OSError, UnicodeError) as exc:
        raise InvalidRequest(
            f"The callback URL's host does not resolve ({exc}).", code="invalid_callback_url"
        ) from None
    check_addresses(url, addresses, settings.webhook_allowed_hosts)


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def payload(job: Transcription, at: datetime) -> str:
    """The message body for a job that has just reached its terminal state."""
    data = {
        "id": str(job.id),
        "filename": job.filename,
        "status": job.status,
        "seq": job.last_seq,
        "model": job.model,
        "language": job.language,
        "duration_seconds": job.duration_seconds,
        "created_at": _time(job.created_at),
        "completed_at": _time(job.completed_at),
        "error": job.error,
        "text": job.text,
        "reused_from": str(job.reused_from) if job.reused_from else None,
    }
    body = {"type": f"transcription.{job.status}", "timestamp": _time(at), "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def record(session: Session, job: Transcription) -> None:
    """Put the message of the job's new terminal state in the outbox (in the caller's
    transaction, the one that makes the state change)."""
    if not job.webhook_url:
        return
    now = utcnow()
    session.add(
        WebhookDelivery(
            transcription_id=job.id,
            event=f"transcription.{job.status}",
            url=job.webhook_url,
            payload=payload(job, now),
            next_attempt_at=now,
            created_at=now,
        )
    )


def signed_headers(secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt (the id is the same for every attempt)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
        "content-type": "application/json",
        "user-agent": "SoundScripter-Webhooks",
    }

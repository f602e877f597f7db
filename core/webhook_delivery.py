"""Sending the webhook outbox: claim due messages, post them, record each outcome.

Every API process runs a `WebhookSender`. A pass claims up to WEBHOOK_CONCURRENCY due
messages in one short transaction (`FOR UPDATE SKIP LOCKED`: two processes never claim the
same message): it counts the attempt and moves the message's next try past the longest an
attempt can take (its lease). The messages are then posted concurrently, with no transaction
open, and each outcome is recorded in a transaction of its own. A process that dies during
an attempt leaves its messages claimed until their lease ends; then any process sends them
again. So every message is delivered at least once, and twice only after such a crash.

Before each attempt the URL's host is resolved and every address checked
(`core.webhooks.check_addresses`); the request then connects to the checked address itself
(the URL's host stays in the Host header and in TLS), so a name that resolves elsewhere by
the time of the connection (DNS rebinding) cannot reach a private address. Redirects are not
followed and the response body is never read.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx
import sqlalchemy as sa

from core import webhooks
from core.db import Database
from core.models import utcnow
from core.settings import Settings

logger = logging.getLogger(__name__)

KEEP_DAYS = 30
"""Finished messages (delivered or failed) are kept this long, then removed."""
_PURGE_EVERY_SECONDS = 3600

_CLAIM = sa.text(
    """
    UPDATE webhook_deliveries AS d
    SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => :lease)
    FROM (
        SELECT id FROM webhook_deliveries
        WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ) AS due
    WHERE d.id = due.id
    RETURNING d.id, d.url, d.payload, d.attempts
    """
)
_FINISH = sa.text(
    """
    UPDATE webhook_deliveries
    SET status = :status, next_attempt_at = :next_at, last_error = :error,
        last_status_code = :code,
        delivered_at = CASE WHEN CAST(:delivered AS boolean) THEN now() END
    WHERE id = :id AND attempts = :attempt AND status = 'pending'
    """
)
_PURGE = sa.text(
    "DELETE FROM webhook_deliveries WHERE status <> 'pending' "
    "AND created_at < now() - make_interval(days => :days)"
)


@dataclass(frozen=True)
class Due:
    """One claimed attempt of a message."""

    id: uuid.UUID
    url: str
    payload: str
    attempt: int


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    error: str | None = None
    status_code: int | None = None
    final: bool = False
    """Not worth another attempt (the target is refused)."""


def pinned_url(url: str, address: webhooks.Address) -> str:
    """`url` with its host replaced by `address` (credentials and port kept)."""
    parts = urlsplit(url)
    host = f"[{address}]" if address.version == 6 else str(address)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (f"{userinfo}@" if userinfo else "") + host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def host_header(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{parts.port}" if parts.port is not None else host


class WebhookSender:
    """The outbox sender of one process; `run_forever` is its loop (see the module doc)."""

    def __init__(self, settings: Settings, db: Database):
        # httpx logs each request's URL at INFO; a webhook URL may carry a token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self.settings = settings
        self.db = db
        self.client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,  # a proxy would connect to the name, not the checked address
            timeout=httpx.Timeout(settings.webhook_timeout_seconds),
        )
        # connect, write and read are each bounded by the timeout; DNS by the resolver.
        self.lease_seconds = 4 * settings.webhook_timeout_seconds + 30

    def claim(self) -> list[Due]:
        with self.db.session() as session:
            rows = session.execute(
                _CLAIM, {"lease": self.lease_seconds, "limit": self.settings.webhook_concurrency}
            ).all()
        return [Due(row.id, row.url, row.payload, row.attempts) for row in rows]

    def finish(self, due: Due, outcome: Outcome) -> None:
        schedule = self.settings.webhook_retry_seconds
        status, next_at = "pending", None
        if outcome.delivered:
            status = "delivered"
        elif outcome.final or due.attempt > len(schedule):
            status = "failed"
        else:
            next_at = utcnow() + timedelta(seconds=schedule[due.attempt - 1])
        values = {
            "id": due.id,
            "attempt": due.attempt,
            "status": status,
            "delivered": outcome.delivered,
            "next_at": next_at or utcnow(),
            "error": outcome.error,
            "code": outcome.status_code,
        }
        with self.db.session() as session:
            session.execute(_FINISH, values)
        if not outcome.delivered:
            logger.warning(
                "webhook %s attempt %d to %s: %s (%s)",
                due.id,
                due.attempt,
                urlsplit(due.url).hostname,
                outcome.error,
                status if status == "failed" else f"next try at {next_at:%H:%M:%S}",
            )

    async def attempt(self, due: Due) -> Outcome:
        allowed = self.settings.webhook_allowed_hosts
        try:
            addresses = await anyio.to_thread.run_sync(webhooks.resolve, due.url)
        except (OSError, UnicodeError) as exc:
            return Outcome(False, f"the host does not resolve: {exc}")
        try:
            webhooks.check_addresses(due.url, addresses, allowed)
        except webhooks.RefusedTarget as exc:
            return Outcome(False, exc.message, final=True)
        host = urlsplit(due.url).hostname or ""
        headers = webhooks.signed_headers(
            self.settings.webhook_secret, str(due.id), due.payload, utcnow()
        )
        headers["host"] = host_header(due.url)
        try:
            async with self.client.stream(
                "POST",
                pinned_url(due.url, addresses[0]),
                content=due.payload.encode(),
                headers=headers,
                extensions={"sni_hostname": host},
            ) as response:
                code = response.status_code
        except httpx.HTTPError as exc:
            return Outcome(False, f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= code < 300:
            return Outcome(True, status_code=code)
        reason = "a redirect (not followed)" if 300 <= code < 400 else "not a 2xx status"
        return Outcome(False, f"HTTP {code}: {reason}", status_code=code)

    async def deliver_due(self) -> int:
        """One pass: claim, post and record what is due now. Returns how many were due."""
        due = await anyio.to_thread.run_sync(self.claim)
        if not due:
            return 0
        outcomes = await asyncio.gather(*(self.attempt(d) for d in due))
        for item, outcome in zip(due, outcomes, strict=True):
            await anyio.to_thread.run_sync(self.finish, item, outcome)
        return len(due)

    def purge(self) -> None:
        with self.db.session() as session:
            session.execute(_PURGE, {"days": KEEP_DAYS})

    async def run_forever(self) -> None:
        purged_at = 0.0
        loop = asyncio.get_running_loop()
        while True:
            claimed = 0
            try:
                claimed = await self.deliver_due()
                if loop.time() - purged_at > _PURGE_EVERY_SECONDS:
                    await anyio.to_thread.run_sync(self.purge)
                    purged_at = loop.time()
            except Exception as exc:
                logger.warning("webhook pass failed: %s", exc)
            if claimed < self.settings.webhook_concurrency:
                await asyncio.sleep(self.settings.webhook_poll_seconds)

    async def close(self) -> None:
        await self.client.aclose()

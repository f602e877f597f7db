"""Tunables of the live relay, read from the process settings."""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Settings

DEFAULT_MAX_JOBS_PER_STREAM = 200


@dataclass(frozen=True)
class LiveOptions:
    ping_seconds: float = 15.0
    """Keep-alive comment interval of every stream (SSE_PING_SECONDS)."""
    fallback_poll_seconds: float = 2.0
    """While Redis is unreachable, Postgres is read at this interval (SSE_FALLBACK_POLL_SECONDS)."""
    audit_seconds: float = 15.0
    """While Redis is live, Postgres is still read at this interval to repair a lost event."""
    max_jobs_per_stream: int = DEFAULT_MAX_JOBS_PER_STREAM
    """Most job ids one multiplexed stream may follow."""
    queue_limit: int = 256
    """Events buffered per client; a client further behind is resynced from Postgres."""
    catch_up_concurrency: int = 4
    """Catch-up reads from Postgres running at once (the rest wait their turn)."""
    send_timeout_seconds: float = 60.0
    """A client that accepts no bytes for this long is disconnected."""

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveOptions:
        return cls(
            ping_seconds=settings.sse_ping_seconds,
            fallback_poll_seconds=settings.sse_fallback_poll_seconds,
            audit_seconds=max(settings.sse_ping_seconds, settings.sse_fallback_poll_seconds),
        )

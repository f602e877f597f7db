"""`python -m api`: serve the API and web UI on API_HOST:API_PORT."""

from __future__ import annotations

import contextlib
import ipaddress
import resource
import sys

import uvicorn

from api.access.keys import KeyConfigError, KeyTable
from api.http_protocol import bounded_protocol
from core.settings import Settings, get_settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refusal(settings: Settings) -> str | None:
    """Why this configuration must not be served, or None."""
    try:
        keys = KeyTable.from_settings(settings)
    except KeyConfigError as exc:
        return str(exc)
    if keys.enabled or settings.allow_anonymous or is_loopback(settings.api_host):
        return None
    return (
        f"Refusing to listen on {settings.api_host}:{settings.api_port} without API keys: "
        "anyone who can reach it could read and delete every transcription. Set API_KEYS "
        "(owner:key pairs), listen on 127.0.0.1, or set ALLOW_ANONYMOUS=true to serve "
        "without authentication on purpose."
    )


def raise_open_files_limit() -> None:
    """Each SSE client holds a socket: lift the soft descriptor limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = 1_048_576 if hard == resource.RLIM_INFINITY else hard
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def main() -> int:
    settings = get_settings()
    problem = refusal(settings)
    if problem:
        print(f"soundscripter api: {problem}", file=sys.stderr)
        return 2
    raise_open_files_limit()
    uvicorn.run(
        "api.main:build",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
        http=bounded_protocol(
            settings.max_request_head_kb * 1024, settings.request_head_timeout_seconds
        ),
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

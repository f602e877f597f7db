"""`python -m api`: serve the API and web UI on API_HOST:API_PORT."""

from __future__ import annotations

import sys

import uvicorn

from core.settings import get_settings


def main() -> int:
    settings = get_settings()
    uvicorn.run(
        "api.main:build",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A RabbitMQ virtual host of a test's own on the machine's broker (`rabbitmqctl`, as root).

Quorum queues bring Celery's native delayed delivery, which declares exchanges and queues of
fixed names (`celery_delayed_*`) in the virtual host: a private one keeps them, and every
queue of the test, off the shared `/`, and deleting it removes everything at once.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from kombu.utils.url import url_to_parts


def _ctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def private_vhost(broker_url: str) -> Iterator[str]:
    """Yield `broker_url` for a new virtual host (the same user has every permission on it)."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is not installed: no private virtual host on this broker")
    parts = url_to_parts(broker_url)
    user = parts.username or "guest"
    name = f"ss_vhost_{secrets.token_hex(4)}"
    _ctl("add_vhost", name)
    try:
        _ctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        login = f"{user}:{parts.password or ''}@" if parts.username else ""
        yield f"{parts.scheme}://{login}{parts.hostname}:{parts.port or 5672}/{name}"
    finally:
        _ctl("delete_vhost", name)

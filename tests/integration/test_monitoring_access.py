"""With API keys, what the services answered and the metrics are for admin keys only."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.platform import free_port
from tests.support.private import private_platform
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ALICE = "alice-key-0123456789abcdef"
ADMIN = "admin-key-0123456789abcdef"
KEYS = {"API_KEYS": f"alice:{ALICE}", "ADMIN_API_KEYS": f"ops:{ADMIN}"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_only_admin_keys_see_service_detail_and_metrics(migrated_db: str, run_dir: Path) -> None:
    with private_platform(
        run_dir / "monitoring", workers=0, headers=bearer(ADMIN), **KEYS
    ) as platform:
        with platform.client(headers=bearer(ALICE)) as alice:
            ready = alice.get("/api/ready")
            metrics = alice.get("/metrics")
        with platform.client() as admin:
            admin_ready = admin.get("/api/ready")
            admin_metrics = admin.get("/metrics")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}
    assert metrics.status_code == 403
    assert metrics.json()["error"]["code"] == "forbidden"
    assert "soundscripter" not in metrics.text
    assert admin_ready.json()["checks"] == {
        "postgres": "ok",
        "rabbitmq": "ok",
        "redis": "ok",
        "storage": "ok",
    }
    assert admin_metrics.status_code == 200
    assert "soundscripter_http_requests_total" in admin_metrics.text


def test_a_degraded_api_names_nothing_to_other_keys(migrated_db: str, run_dir: Path) -> None:
    closed = f"amqp://guest:guest@127.0.0.1:{free_port()}//"
    with private_platform(
        run_dir / "monitoring-down", api=False, workers=0, BROKER_URL=closed, **KEYS
    ) as platform:
        platform.start_api()

        def answered() -> httpx.Response | None:
            try:
                return httpx.get(f"{platform.base_url}/api/health", timeout=5)
            except httpx.HTTPError:
                return None

        wait_until(answered, 60, 0.2, "the API to answer")
        with platform.client(headers=bearer(ALICE)) as alice:
            ready = alice.get("/api/ready")
        with platform.client(headers=bearer(ADMIN)) as admin:
            admin_ready = admin.get("/api/ready")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["error"]["code"] == "not_ready"
    assert "checks" not in body
    assert "rabbitmq" not in ready.text
    assert "127.0.0.1" not in ready.text
    assert admin_ready.status_code == 503
    assert admin_ready.json()["checks"]["rabbitmq"].startswith("down")
    assert "rabbitmq" in admin_ready.json()["error"]["message"]

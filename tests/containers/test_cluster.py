"""The cluster tier: two api replicas, worker hosts that share nothing with the API but the
network, the object store, and the failures a cluster meets (a host killed or cut off, the
object store down).

One stack for the module (the `cluster` fixture in conftest.py). The checks that stop or cut
off a container run last and bring it back before they end.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.containers import podman
from tests.containers.checks import (
    api_url,
    host_of,
    job,
    job_row,
    log_lines,
    segments_once,
    sql,
    upload,
    wait_finished,
    wait_processing_on,
    wait_until,
)
from tests.containers.cluster_parts import (
    completions,
    consumers,
    env_of,
    files_under,
    hosts,
    models_of,
    models_report,
    object_store,
    own_copy,
    pools,
    reconnect,
    recording,
    start_again,
    stored_objects,
)
from tests.containers.compose_stack import Stack
from tests.support import media, sse

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(1800)]

SENTENCES = [
    "The quarterly budget meeting starts at nine tomorrow morning.",
    "Please send the signed contract to the legal department.",
    "Our new office opens next month near the central station.",
    "The weather forecast promises sunshine for the whole weekend.",
]
# About three minutes of speech (some 10 s of work): still running when its host is killed or
# cut off.
LONG_TEXT = " ".join(
    [
        "This recording is long enough to be interrupted on its way.",
        "A worker host that is lost hands the file to another host,",
        "which starts it again, and the transcript is stored exactly once.",
    ]
    * 14
)


JOB_STATE = "status, last_seq, run_id, worker, completed_at, text, attempts"


def stored_segments(stack: Stack, item: dict[str, str]) -> list[list[str]]:
    return sql(
        stack,
        "SELECT index, seq, text FROM segments "
        f"WHERE transcription_id = '{item['id']}' ORDER BY index",
    )


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cluster-media")


@pytest.fixture(scope="module")
def long_speech(media_dir: Path) -> Path:
    return media.speech(LONG_TEXT, media_dir, name="long")


@pytest.fixture(scope="module")
def serving(cluster: Stack) -> Stack:
    """The cluster once both hosts of the first pool serve their model (heartbeats seen)."""
    first = pools(cluster)[0]
    expected = len(cluster.replicas(first))
    model = models_of(cluster, first)[0]

    def announced() -> bool:
        return models_report(cluster).get(model, {}).get("workers", 0) >= expected

    wait_until(announced, 120, f"{expected} live workers for {model} in /api/models")
    return cluster


# --- what the cluster is ------------------------------------------------------------------


def test_worker_hosts_share_no_volume_with_the_api(serving: Stack) -> None:
    stack = serving
    for service in ("api", *pools(stack)):
        env = env_of(stack, service)
        assert env.get("STORAGE_BACKEND") == "s3", (
            f"{service} runs with {env.get('STORAGE_BACKEND')}"
        )
    api_mounts = {
        mount.get("Name") or mount["Source"]
        for api in stack.replicas("api")
        for mount in podman.inspect("container", api.name)["Mounts"]
    }
    storage_dir = env_of(stack, "api")["STORAGE_DIR"]
    marker = f"{storage_dir}/cluster-marker-{stack.run_id}"
    api = stack.replicas("api")[0]
    made = podman.exec_in(api.name, ["sh", "-c", f"mkdir -p {storage_dir} && touch {marker}"])
    assert made.returncode == 0, made.stderr
    for host in hosts(stack):
        mounts = {
            m.get("Name") or m["Source"] for m in podman.inspect("container", host.name)["Mounts"]
        }
        assert not mounts & api_mounts, (
            f"{host.name} mounts what the API mounts: {mounts & api_mounts}"
        )
        seen = podman.exec_in(host.name, ["test", "-e", marker])
        assert seen.returncode != 0, f"{host.name} sees the API's storage folder {storage_dir}"


def test_uploads_complete_on_both_worker_hosts_from_the_object_store(
    serving: Stack, media_dir: Path
) -> None:
    stack = serving
    paths = [recording(t, media_dir, f"sentence-{n}") for n, t in enumerate(SENTENCES)]
    items = upload(stack, *paths)
    for item, text in zip(items, SENTENCES, strict=True):
        done = wait_finished(stack, item["id"])
        assert done["status"] == "completed", done
        assert media.word_error_rate(text, done["text"]) <= 0.25, (text, done["text"])
    workers = {item["id"]: host_of(job_row(stack, item["id"], "worker")[0]) for item in items}
    first = {c.name for c in hosts(stack, pools(stack)[0])}
    assert set(workers.values()) == first, f"jobs ran on {workers}, not spread over {first}"
    keys = stored_objects(stack)
    for item in items:
        (key,) = job_row(stack, item["id"], "storage_key")
        assert any(key in stored for stored in keys), f"{key} is not in the object store"


def test_an_upload_to_one_api_replica_streams_from_the_other(
    serving: Stack, long_speech: Path, media_dir: Path
) -> None:
    """Uploaded through replica 1, followed live through replica 2 (the worker's events reach
    every replica through Redis): every segment once, in order, then `completed`."""
    stack = serving
    (item,) = upload(stack, own_copy(long_speech, media_dir, "long-streamed"), replica=1)

    async def watch() -> sse.Received:
        async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=120)) as client:
            url = api_url(stack, f"/api/transcriptions/{item['id']}/events", replica=2)
            return await sse.follow(client, url, within=300)

    received = asyncio.run(watch())
    assert received.status == 200, received
    assert received.ended_by_server, "replica 2 did not end the stream after the job finished"
    final = job(stack, item["id"], replica=2)
    assert final["status"] == "completed", final
    last_seq, completed_at = job_row(
        stack, item["id"], "last_seq, extract(epoch FROM completed_at)"
    )
    sse.check_job_history(received.frames, {**final, "seq": int(last_seq)})
    live = [f for f in received.frames if f.event == "progress"]
    assert live, f"replica 2 relayed no progress: {[f.event for f in received.frames]}"
    assert live[0].received_at < float(completed_at), (
        "replica 2 sent progress only after the job had finished: the worker's live events "
        "did not reach it"
    )


def test_migrations_from_several_replicas_at_once_apply_once(serving: Stack) -> None:
    """Three migrate containers started together on an empty database: one applies the
    migrations under the advisory lock, the others wait and find nothing to do."""
    stack = serving
    env = env_of(stack, "migrate")
    url = env["DATABASE_URL"].rsplit("/", 1)[0] + "/concurrent_migrations"
    started = [stack.start("migrate", index, env={"DATABASE_URL": url}) for index in (2, 3, 4)]
    for container in started:
        code = stack.wait_exit(container.name, timeout=180)
        assert code == 0, f"{container.name} exited {code}:\n{podman.logs(container.name)[-2000:]}"
    pg = stack.services["postgres"]["environment"]
    count = "SELECT count(*) FROM alembic_version"
    versions = podman.exec_in(
        stack.replicas("postgres")[0].name,
        ["psql", "-U", pg["POSTGRES_USER"], "-d", "concurrent_migrations", "-At", "-c", count],
    )
    assert versions.stdout.strip() == "1", versions.stdout + versions.stderr


def test_model_pools_route_jobs_and_a_waiting_model_starts_with_its_worker(
    serving: Stack, media_dir: Path
) -> None:
    stack = serving
    assert len(pools(stack)) >= 2, f"docker-compose.yml defines one model pool: {pools(stack)}"
    first, second = pools(stack)[:2]
    model_a, model_b = models_of(stack, first)[0], models_of(stack, second)[0]
    assert model_a != model_b, f"{first} and {second} both serve {model_a}"
    report = models_report(stack, replica=2)
    assert {model_a, model_b} <= set(report), f"/api/models lists {sorted(report)}"
    assert report[model_a]["workers"] >= 2, report[model_a]
    assert report[model_b]["workers"] == 0, report[model_b]

    clip = recording(SENTENCES[2], media_dir, "second-model")
    (waiting,) = upload(stack, clip, fields={"model": model_b})
    (other,) = upload(stack, clip, fields={"model": model_a})
    assert waiting["waiting_for_worker"] is True, waiting
    assert wait_finished(stack, other["id"])["status"] == "completed"
    found = job(stack, waiting["id"])
    assert found["status"] == "queued", found
    assert found["waiting_for_worker"] is True, found
    assert models_report(stack)[model_b]["queued"] == 1, models_report(stack)[model_b]

    joined = stack.start(second, 1)
    try:
        stack.wait_healthy(joined.name, timeout=300)
        done = wait_finished(stack, waiting["id"])
        assert done["status"] == "completed", done
        assert media.word_error_rate(SENTENCES[2], done["text"]) <= 0.25, done["text"]
        assert host_of(job_row(stack, waiting["id"], "worker")[0]) == joined.name
        assert host_of(job_row(stack, other["id"], "worker")[0]) in {
            c.name for c in hosts(stack, first)
        }
        assert models_report(stack)[model_b]["workers"] >= 1
    finally:
        # Back to the two hosts of the first pool, for the checks that follow.
        podman.podman("stop", "--time", "60", joined.name, timeout=120, check=False)


# --- the object store down ----------------------------------------------------------------


def test_object_store_down_during_an_upload_stores_nothing(serving: Stack, media_dir: Path) -> None:
    stack = serving
    store = stack.replicas(object_store(stack))[0]
    api = stack.replicas("api")[0]
    storage_dir = env_of(stack, "api")["STORAGE_DIR"]
    rows_before = sql(stack, "SELECT count(*) FROM transcriptions")
    objects_before = sorted(stored_objects(stack))
    files_before = files_under(api.name, storage_dir)
    clip = recording(SENTENCES[3], media_dir, "store-down")
    podman.podman("stop", "--time", "10", store.name, timeout=60)
    try:
        response = httpx.post(
            api_url(stack, "/api/transcriptions"),
            files=[("files", (clip.name, clip.read_bytes(), "audio/wav"))],
            timeout=180,
        )
    finally:
        start_again(stack, store)
    assert response.status_code == 503, f"{response.status_code}: {response.text}"
    error = response.json()["error"]
    assert error["code"], error
    assert error["message"], error
    assert sql(stack, "SELECT count(*) FROM transcriptions") == rows_before, "a row was stored"
    assert sorted(stored_objects(stack)) == objects_before, "an object was (half) stored"
    assert files_under(api.name, storage_dir) == files_before, "a partial file was left"
    (item,) = upload(stack, clip)
    assert wait_finished(stack, item["id"])["status"] == "completed"


def test_object_store_down_when_a_job_starts_it_waits_and_completes(
    serving: Stack, media_dir: Path
) -> None:
    """The only live worker host finds the store down as it fetches the job's media: it
    retries with backoff and completes once the store is back."""
    stack = serving
    store = stack.replicas(object_store(stack))[0]
    first, second = hosts(stack, pools(stack)[0])[:2]
    for host in (first, second):  # idle: a warm stop is quick
        podman.podman("stop", "--time", "60", host.name, timeout=120)
    try:
        clip = recording(SENTENCES[1], media_dir, "fetch-retry")
        (item,) = upload(stack, clip)
        podman.podman("stop", "--time", "10", store.name, timeout=60)
        try:
            podman.podman("start", first.name, timeout=120)
            wait_until(
                lambda: log_lines(first.name, "media store unreachable", item["id"]),
                180,
                f"{first.name} to meet the stopped object store while fetching job {item['id']}",
            )
        finally:
            start_again(stack, store)
        done = wait_finished(stack, item["id"])
        assert done["status"] == "completed", done
        assert media.word_error_rate(SENTENCES[1], done["text"]) <= 0.25, done["text"]
        assert host_of(job_row(stack, item["id"], "worker")[0]) == first.name
        segments_once(stack, item["id"])
    finally:
        # Both hosts back, for the checks that follow.
        for host in (first, second):
            if not stack.state(host.name).get("Running"):
                podman.podman("start", host.name, timeout=120)
        for host in (first, second):
            stack.wait_healthy(host.name, timeout=300)


# --- worker hosts lost mid-job ------------------------------------------------------------


def test_worker_host_killed_mid_job_completes_once_on_the_other(
    serving: Stack, long_speech: Path, media_dir: Path
) -> None:
    stack = serving
    (item,) = upload(stack, own_copy(long_speech, media_dir, "long-killed"))
    node = wait_processing_on(stack, item["id"])
    wait_until(
        lambda: int(job_row(stack, item["id"], "last_seq")[0]) > 2,
        120,
        f"job {item['id']} to store its first segments",
        interval=0.2,
    )
    victim = next(c for c in hosts(stack) if c.name == host_of(node))
    podman.podman("kill", victim.name, timeout=60)
    try:
        done = wait_finished(stack, item["id"])
        assert done["status"] == "completed", done
        # Read once, whole: a transcript doubled by the redo, or missing the killed run's
        # part, is far off in length; what tiny.en mishears in espeak-ng's voice ("post" for
        # "host", 28 times in the text) is in the error rate of any run.
        assert abs(len(done["text"].split()) / len(LONG_TEXT.split()) - 1) <= 0.15, done["text"]
        assert media.word_error_rate(LONG_TEXT, done["text"]) <= 0.35, done["text"]
        worker, attempts = job_row(stack, item["id"], "worker, attempts")
        assert host_of(worker) != victim.name, f"the job finished on the killed {victim.name}"
        assert int(attempts) == 2, f"{attempts} attempts"
        assert len(completions(stack, item["id"])) == 1, completions(stack, item["id"])
        assert segments_once(stack, item["id"]) == len(done["segments"])
    finally:
        start_again(stack, victim)


def test_worker_host_cut_off_mid_job_is_fenced(
    serving: Stack, long_speech: Path, media_dir: Path
) -> None:
    """Cut off from the network, a host loses its lease; the sweeper (in whichever api replica
    holds its lock) requeues the job once, the other host completes it, and the cut-off run
    writes nothing after it is reconnected."""
    stack = serving
    (item,) = upload(stack, own_copy(long_speech, media_dir, "long-cut-off"))
    node = wait_processing_on(stack, item["id"])
    victim = next(c for c in hosts(stack) if c.name == host_of(node))
    (first_run,) = job_row(stack, item["id"], "run_id")
    connected = len(log_lines(victim.name, "Connected to amqp"))
    podman.podman("network", "disconnect", stack.network, victim.name, timeout=60)
    try:
        done = wait_finished(stack, item["id"], timeout=400)
        assert done["status"] == "completed", done
        snapshot, segments = job_row(stack, item["id"], JOB_STATE), stored_segments(stack, item)
    finally:
        reconnect(stack, victim)
    _, _, run_id, worker, _, _, attempts = snapshot
    assert run_id != first_run, f"the job completed in the cut-off run: {snapshot}"
    assert host_of(worker) != victim.name, f"the job completed on the cut-off host: {snapshot}"
    assert int(attempts) == 2, f"{attempts} attempts: the job was requeued more than once"
    expired = [
        line
        for api in stack.replicas("api")
        for line in log_lines(api.name, "lease of job", item["id"], "expired")
    ]
    assert len(expired) == 1, f"the sweepers requeued the job {len(expired)} times: {expired}"
    # Back on the network, the host reconnects to the broker; its old run was stopped when
    # the broker connection dropped, or finds itself superseded at its next write.
    wait_until(
        lambda: len(log_lines(victim.name, "Connected to amqp")) > connected,
        240,
        f"{victim.name} to reconnect to the broker",
    )
    time.sleep(5)  # negative check: a late write of the old run would land in this window
    assert job_row(stack, item["id"], JOB_STATE) == snapshot, (
        "the job row changed after the cut-off run came back"
    )
    assert stored_segments(stack, item) == segments, (
        "segments changed after the cut-off run came back"
    )
    assert completions(stack, item["id"]) == [
        line for line in completions(stack, item["id"]) if not line.startswith(victim.name)
    ], "the cut-off run reported the job completed"
    assert len(completions(stack, item["id"])) == 1
    stack.wait_healthy(victim.name, timeout=300)
    wait_until(
        lambda: consumers(stack) >= len(hosts(stack, pools(stack)[0])),
        180,
        "the reconnected host to consume again",
    )

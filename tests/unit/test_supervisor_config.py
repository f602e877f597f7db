"""deploy/supervisor/: the local run's and the container's Supervisor, read by Supervisor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.deploy_files import ROOT, SUPERVISOR_DIR, programs, supervisor_options

pytestmark = pytest.mark.unit


def test_local_supervisor_runs_api_and_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = supervisor_options("local.conf", tmp_path, monkeypatch, processes=3)
    found = programs(options)
    assert set(found) == {"api:api", "worker:worker-00", "worker:worker-01", "worker:worker-02"}
    assert found["api:api"].command == "python -m api"
    assert found["worker:worker-01"].command == "python -m worker --node worker-01"
    for process in found.values():
        assert Path(process.directory).resolve() == ROOT
    assert options.nodaemon
    assert Path(options.pidfile).parent == tmp_path


def test_container_supervisor_runs_only_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = supervisor_options("transcription-service.conf", tmp_path, monkeypatch)
    assert set(programs(options)) == {"worker:worker-00", "worker:worker-01"}


@pytest.mark.parametrize("conf", ["local.conf", "transcription-service.conf"])
def test_supervisor_dashboard_requires_the_configured_login(
    conf: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = supervisor_options(conf, tmp_path, monkeypatch)
    servers = {server["section"]: server for server in options.server_configs}
    assert set(servers) == {"inet_http_server", "unix_http_server"}
    for server in servers.values():
        assert server["username"] == "operator"
        assert server["password"] == "s3cret-value"
    assert servers["unix_http_server"]["chmod"] == 0o700


def test_workers_shut_down_warm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    options = supervisor_options("local.conf", tmp_path, monkeypatch)
    worker = programs(options)["worker:worker-00"]
    assert worker.stopsignal == signal.SIGTERM
    # SIGTERM to the Celery main process only: pool children would die mid-job.
    assert worker.stopasgroup is False
    assert worker.killasgroup is True
    assert worker.stopwaitsecs >= 300


def test_supervisor_refuses_to_start_without_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPERVISOR_PASSWORD", raising=False)
    env = {key: value for key, value in os.environ.items() if not key.startswith("SUPERVISOR_")}
    env.update(
        SOUNDSCRIPTER_RUN_DIR=str(tmp_path),
        SUPERVISOR_HOST="127.0.0.1",
        SUPERVISOR_PORT="9001",
        SUPERVISOR_USER="operator",
        WORKER_PROCESSES="1",
    )
    code = (
        "from supervisor.options import ServerOptions\n"
        "import sys\n"
        "ServerOptions().realize(args=['-c', sys.argv[1]])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(SUPERVISOR_DIR / "local.conf")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "ENV_SUPERVISOR_PASSWORD" in result.stderr + result.stdout

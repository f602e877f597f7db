"""`.env.example`: every variable the settings, Compose and Supervisor read is documented, and
no secret ships with a value."""

from __future__ import annotations

import re

import pytest

from core.settings import Settings
from tests.support.deploy_files import (
    COMPOSE_FILE,
    GPU_OVERRIDE,
    REQUIRED_SECRETS,
    SUPERVISOR_DIR,
    compose_variables,
    documented_variables,
    env_example_values,
)

pytestmark = pytest.mark.unit


def test_env_example_ships_no_secret() -> None:
    values = env_example_values()
    for name in REQUIRED_SECRETS:
        assert name in values, f"{name} missing from .env.example"
        assert values[name] == "", f".env.example gives {name} a value"


def test_every_variable_is_documented_in_env_example() -> None:
    documented = documented_variables()
    read = {name.upper() for name in Settings.model_fields}
    for path in (COMPOSE_FILE, GPU_OVERRIDE):
        read |= {name for name, _ in compose_variables(path.read_text(encoding="utf-8"))}
    for conf in SUPERVISOR_DIR.rglob("*.conf"):
        read |= set(re.findall(r"%\(ENV_([A-Z0-9_]+)\)s", conf.read_text(encoding="utf-8")))
    missing = sorted(read - documented)
    assert not missing, f"not documented in .env.example: {missing}"

"""`python -m api.openapi`: print the API's OpenAPI schema as clients see it.

Printing the schema builds the app without starting it: nothing connects to Postgres, Redis or
RabbitMQ, and no setting comes from the environment or `.env`, so the output is the same on
every machine. The web client's types are generated from this output (`make web-types`).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from api.main import create_app
from core.settings import Settings


class SchemaSettings(Settings):
    """Settings from their defaults (and keyword arguments) only: no environment, no `.env`."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def build_schema() -> dict[str, Any]:
    """The schema of the app `create_app` builds from default settings."""
    return create_app(SchemaSettings()).openapi()


def render(schema: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, one trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    sys.stdout.write(render(build_schema()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The API's OpenAPI schema as clients see it, and `python -m api.openapi`, which prints it.

Besides the routes' own models, the schema's components hold what a client needs but no route
declares: the server-sent event models of `core.events` (`JobEvent` and its members) and the job
statuses of `core.states` (`JobStatus`, `TerminalStatus`). The web client's types are generated
from this output (`make web-types`), so every wire shape is written once, in Python.

Printing the schema builds the app without starting it: nothing connects to Postgres, Redis or
RabbitMQ, and no setting comes from the environment or `.env`, so the output is the same on
every machine.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from fastapi import FastAPI
from pydantic import TypeAdapter
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from core.events import JobEvent
from core.settings import Settings
from core.states import TERMINAL, JobStatus

REF_TEMPLATE = "#/components/schemas/{model}"


def event_schemas() -> dict[str, Any]:
    """`JobEvent` (the discriminated union sent as SSE `data`) and every model it refers to."""
    schema = TypeAdapter(JobEvent).json_schema(mode="serialization", ref_template=REF_TEMPLATE)
    models: dict[str, Any] = schema.pop("$defs")
    union = {
        "title": "JobEvent",
        "description": "The JSON `data` of one server-sent event; its `type` is the event name.",
        **schema,
    }
    return {**models, "JobEvent": union}


def status_schemas() -> dict[str, Any]:
    """Every job status, and the terminal ones (an event stream closes after one of those)."""
    statuses = TypeAdapter(JobStatus).json_schema()
    terminal = {
        "title": "TerminalStatus",
        "description": "The statuses a job ends in; only a retry moves a failed or cancelled "
        "job on, and a job's event stream closes after one of them.",
        "type": "string",
        "enum": [status.value for status in JobStatus if status in TERMINAL],
    }
    return {"JobStatus": statuses, "TerminalStatus": terminal}


def add_client_schemas(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds the event and status schemas to `schema`'s components; the routes' own win."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in {**event_schemas(), **status_schemas()}.items():
        components.setdefault(name, definition)
    return schema


def install(app: FastAPI) -> None:
    """Makes `app.openapi()` (and `/openapi.json`) include the client schemas. Idempotent."""
    if getattr(app.state, "openapi_client_schemas", False):
        return
    app.state.openapi_client_schemas = True
    routes_schema = app.openapi

    def openapi() -> dict[str, Any]:
        return add_client_schemas(routes_schema())

    app.openapi = openapi  # type: ignore[method-assign]


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
    from api.main import create_app  # here: api.main imports this module to call `install`

    app = create_app(SchemaSettings())
    install(app)
    return app.openapi()


def render(schema: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, one trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    sys.stdout.write(render(build_schema()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

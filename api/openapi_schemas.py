"""What the API's OpenAPI schema adds for clients beyond the routes' own models.

Besides the routes' own models, the schema's components hold what a client needs but no route
declares: the server-sent event models of `core.events` (`JobEvent` and its members) and the job
statuses of `core.states` (`JobStatus`, `TerminalStatus`). The web client's types are generated
from this output (`make web-types`), so every wire shape is written once, in Python.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import TypeAdapter

from core.events import JobEvent
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

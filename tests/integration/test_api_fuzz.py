"""Property-based fuzzing of every HTTP operation in the OpenAPI schema (schemathesis), against
a real API process with API keys, once with an admin key and once without any key.

Checks: no 5xx, every status code documented, bodies and content types as the schema says.
The SSE operations are left out (their responses never end; their tests read them directly).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.private import PrivatePlatform, private_platform

pytestmark = pytest.mark.integration

ADMIN = "fuzz-admin-key-0123456789"
EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
OPEN_OPERATIONS = {("GET", "/api/health"), ("DELETE", "/api/session")}
REQUESTS: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()


@pytest.fixture(scope="module")
def fuzz_target(migrated_db: str, run_dir: Path) -> Iterator[PrivatePlatform]:
    with private_platform(
        run_dir / "fuzz",
        workers=0,
        headers={"Authorization": f"Bearer {ADMIN}"},
        ADMIN_API_KEYS=f"fuzzer:{ADMIN}",
        MAX_UPLOAD_MB="2",
    ) as platform:
        yield platform
    print(
        f"API fuzz: {sum(REQUESTS.values())} requests ({dict(REQUESTS)}), "
        f"statuses {dict(sorted(STATUSES.items()))}"
    )


@pytest.fixture(scope="module")
def operations(fuzz_target: PrivatePlatform) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{fuzz_target.base_url}/openapi.json")
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 10
    return [op for op in found if not op.path.endswith("/events")]


def _fuzz(operations: list[Any], platform: PrivatePlatform, label: str, key: bool) -> None:
    headers = platform.headers if key else {}

    def check(case: Any) -> None:
        response = case.call(base_url=platform.base_url, headers=headers, timeout=30)
        REQUESTS[label] += 1
        STATUSES[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)
        if not key and (case.method, case.path) not in OPEN_OPERATIONS:
            # A request head past the limit is refused (431) before anything reads its key.
            assert response.status_code in (401, 431), case.as_curl_command()
            if response.status_code == 431:
                assert len(response.request.url or "") > 16 * 1024, case.as_curl_command()

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = FUZZ_SETTINGS(given(case=operation.as_strategy(generation_mode=mode))(check))
            try:
                run()
            except Unsatisfiable:  # e.g. no invalid request exists for an operation without input
                assert mode is GenerationMode.NEGATIVE


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


def test_api_with_admin_key(operations: list[Any], fuzz_target: PrivatePlatform) -> None:
    _fuzz(operations, fuzz_target, "with key", key=True)


def test_api_without_key(operations: list[Any], fuzz_target: PrivatePlatform) -> None:
    _fuzz(operations, fuzz_target, "without key", key=False)

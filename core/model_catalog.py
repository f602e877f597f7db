"""What a Whisper model can do, told from its files or its name, without loading it.

The API must not import faster-whisper, and a worker announces its models before any pool
process has loaded one, so both read the model directory: a CTranslate2 Whisper model keeps
its tokens in `vocabulary.txt` (or `vocabulary.json`), and the multilingual models have one
more token than the English-only ones (51,865 or more against 51,864), which is the rule
Whisper and CTranslate2 themselves apply. A model known only by name follows Whisper's naming:
`*.en` is English only.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from core.languages import WHISPER_LANGUAGES

MULTILINGUAL_VOCABULARY = 51865


@lru_cache(maxsize=64)
def _vocabulary_size(path: Path, _mtime: float) -> int:
    if path.suffix == ".json":
        return len(json.loads(path.read_text(encoding="utf-8")))
    with path.open("rb") as file:
        return sum(1 for _ in file)


def multilingual_from_files(directory: str | Path) -> bool | None:
    """Whether the model in `directory` is multilingual; None when it holds no vocabulary."""
    folder = Path(directory)
    for name in ("vocabulary.txt", "vocabulary.json"):
        path = folder / name
        try:
            return _vocabulary_size(path, path.stat().st_mtime) >= MULTILINGUAL_VOCABULARY
        except (OSError, ValueError):
            continue
    return None


def multilingual_by_name(model: str) -> bool:
    """Whisper's convention: `tiny.en`, `/models/medium.en` are English only."""
    return not model.rstrip("/").rsplit("/", 1)[-1].lower().endswith(".en")


def multilingual(model: str, announced: bool | None = None) -> bool:
    """What the workers read from the model's files, else the files seen from here (a local
    directory), else the name."""
    if announced is not None:
        return announced
    local = Path(model)
    if local.is_absolute() and local.is_dir():
        found = multilingual_from_files(local)
        if found is not None:
            return found
    return multilingual_by_name(model)


def tasks(is_multilingual: bool) -> list[str]:
    """What a model can be asked to do: an English-only model cannot translate."""
    return ["transcribe", "translate"] if is_multilingual else ["transcribe"]


CANTONESE = "yue"
"""The one language large-v3 added to Whisper's vocabulary (its 100th, 51,866 tokens): the
other multilingual models (`base`, `small`, ..., `large-v2`) know 99."""


def knows_cantonese(model: str) -> bool:
    """Whether `model` is of the large-v3 family (`large-v3`, `large-v3-turbo`, `turbo`, or a
    directory named so): by name, as the API does not see the workers' model files."""
    name = model.rstrip("/").rsplit("/", 1)[-1].lower()
    return "large-v3" in name or "turbo" in name


def languages(is_multilingual: bool, model: str = "") -> list[str]:
    """The languages a model transcribes: Whisper's list (with Cantonese for the large-v3
    family only), or English alone."""
    if not is_multilingual:
        return ["en"]
    return sorted(c for c in WHISPER_LANGUAGES if c != CANTONESE or knows_cantonese(model))

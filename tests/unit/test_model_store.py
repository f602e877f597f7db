"""Assembling a packaged model on disk: parts joined in order, model.bin last, once."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.model_store import (
    PACKAGED_MODELS,
    ModelUnavailable,
    PackagedModel,
    assemble,
    is_complete,
    package_data,
)

pytestmark = pytest.mark.unit


@pytest.fixture
def packages(tmp_path: Path) -> Iterator[Path]:
    """Two importable packages holding a model split in two parts, as the real ones do."""
    root = tmp_path / "site"
    for package, files in {
        "ss_test_model_1": {"model.bin.part1": b"A" * 1000},
        "ss_test_model_2": {"model.bin.part2": b"B" * 234, "config.json": b"{}"},
    }.items():
        data = root / package / "data"
        data.mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
        for name, content in files.items():
            (data / name).write_bytes(content)
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))


MODEL = PackagedModel(
    name="split",
    parts=(("ss_test_model_1", "model.bin.part1"), ("ss_test_model_2", "model.bin.part2")),
    files=(("ss_test_model_2", "config.json"),),
)


def test_parts_are_joined_in_order_beside_the_other_files(packages: Path, tmp_path: Path) -> None:
    folder = assemble(MODEL, tmp_path / "models")
    assert folder == tmp_path / "models" / "split"
    assert (folder / "model.bin").read_bytes() == b"A" * 1000 + b"B" * 234
    assert (folder / "config.json").read_bytes() == b"{}"
    assert not list(folder.glob("*.tmp"))
    assert is_complete(folder)


def test_assembling_again_leaves_a_complete_folder_alone(packages: Path, tmp_path: Path) -> None:
    folder = assemble(MODEL, tmp_path / "models")
    before = (folder / "model.bin").stat().st_mtime_ns
    (packages / "ss_test_model_1" / "data" / "model.bin.part1").unlink()  # not needed again
    assert assemble(MODEL, tmp_path / "models") == folder
    assert (folder / "model.bin").stat().st_mtime_ns == before


def test_an_incomplete_folder_is_assembled_anew(packages: Path, tmp_path: Path) -> None:
    folder = tmp_path / "models" / "split"
    folder.mkdir(parents=True)
    (folder / "model.bin.tmp").write_bytes(b"A" * 10)  # an assembly cut short
    (folder / "config.json").write_bytes(b"{")
    assert not is_complete(folder)
    assemble(MODEL, tmp_path / "models")
    assert (folder / "model.bin").stat().st_size == 1234
    assert (folder / "config.json").read_bytes() == b"{}"
    assert not (folder / "model.bin.tmp").exists()


def test_a_missing_package_or_part_is_reported(packages: Path, tmp_path: Path) -> None:
    (packages / "ss_test_model_2" / "data" / "model.bin.part2").unlink()
    with pytest.raises(ModelUnavailable, match=r"model\.bin\.part2 is missing"):
        assemble(MODEL, tmp_path / "models")
    assert not is_complete(tmp_path / "models" / "split")
    with pytest.raises(ModelUnavailable, match="not installed"):
        package_data("ss_test_no_such_package")


def test_base_is_found_in_its_installed_packages() -> None:
    base = PACKAGED_MODELS["base"]
    sizes = [(package_data(p) / name).stat().st_size for p, name in base.parts]
    assert sizes == [94371840, 50845767]  # about 145 MB together
    for package, name in base.files:
        assert (package_data(package) / name).is_file()

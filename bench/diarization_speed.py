"""Benchmark: the speaker stage's CPU seconds per second of audio, and how often it is wrong.

espeak-ng dialogs of two and three voices (`tests/support/dialogs.py`) are labelled by the
worker's own `Diarizer` in this process, with the speaker count given and with `auto`. CPU
time is this process's (user + system) around the stage alone: reading the audio, voice
activity, mel spectrograms, the numpy LSTM and the clustering; the encoder is loaded before.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from bench.context import BenchContext
from bench.report import Goal, Section, Table
from tests.support import dialogs
from worker.diarization import Diarizer

logger = logging.getLogger(__name__)

GOAL_CPU_PER_AUDIO = 0.15
TURNS = {"full": 120, "quick": 40, "smoke": 4}
"""Lines per dialog (about 5 s each)."""


def _measure(diarizer: Diarizer, path: Path, mode: str, seconds: float) -> tuple[float, int, Any]:
    started = time.process_time()
    turns = diarizer.turns(
        path, mode, duration=seconds, progress=lambda f: None, stop=lambda: False
    )
    cpu = time.process_time() - started
    assert turns is not None
    return cpu, len({who for *_, who in turns.spans}), turns


def run(context: BenchContext) -> Section:
    folder = context.workdir / "dialogs"
    folder.mkdir(parents=True, exist_ok=True)
    diarizer = Diarizer()
    diarizer.encoder()
    table = Table(["voices", "speakers", "audio", "CPU s", "CPU s per audio s", "found", "wrong"])
    ratios: list[float] = []
    for voices in (2, 3):
        path, truth = dialogs.dialog(
            folder, voices, turns=max(TURNS.get(context.scale.name, 40), voices * 2)
        )
        seconds = truth[-1].end
        for mode in (str(voices), "auto"):
            cpu, found, turns = _measure(diarizer, path, mode, seconds)
            wrong = dialogs.wrong_share(truth, lambda a, b, t=turns: t.speaker(a, b))
            ratios.append(cpu / seconds)
            table.add(
                voices,
                mode,
                f"{seconds:.0f} s",
                f"{cpu:.1f}",
                f"{cpu / seconds:.3f}",
                found,
                f"{wrong:.1%}",
            )
            logger.info("diarization %s voices, %s: %.3f CPU s per s", voices, mode, cpu / seconds)
    worst = max(ratios)
    return Section(
        key="diarization",
        title="Speaker labels: CPU per audio second",
        method=__doc__ or "",
        goals=[
            Goal(
                "speaker stage CPU per audio second",
                f"≤ {GOAL_CPU_PER_AUDIO}",
                f"{worst:.3f} (worst case)",
                worst <= GOAL_CPU_PER_AUDIO,
            )
        ],
        tables=[("", table)],
        notes=[
            "`wrong`: the share of the true speech time given to the wrong speaker under the "
            "best mapping of labels to voices; `found`: the number of speakers labelled."
        ],
        data={"cpu_per_audio_second": worst},
    )

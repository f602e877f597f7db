"""Measured speed: how long a recording takes on a model, and on one worker of it.

Taken from the model's most recent completed runs (`SAMPLE`): the time from claim to end
against the recording's duration, fitted as a fixed cost per job plus a cost per second of
audio (least squares; a plain ratio while the runs are too few or too alike to fit). A worker
with `WORKER_SAMPLE` runs or more in the sample gets its own fit, the others the model's.
Read afresh by every dispatch pass, so every run that ends updates the estimates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from core.scheduling import Durations

SAMPLE = 50
WORKER_SAMPLE = 3

_RECENT = sa.text(
    """
    SELECT worker, duration_seconds, extract(epoch FROM completed_at - started_at)
    FROM transcriptions
    WHERE status = 'completed' AND model = :model AND duration_seconds > 0
          AND started_at IS NOT NULL AND completed_at > started_at AND reused_from IS NULL
    ORDER BY completed_at DESC
    LIMIT :sample
    """
)


@dataclass(frozen=True)
class Fit:
    """seconds = fixed + per_audio_second * duration"""

    fixed: float
    per_audio_second: float

    def seconds(self, duration: float) -> float:
        return self.fixed + self.per_audio_second * duration

    @property
    def speed(self) -> float:
        """Seconds of audio per second of work, leaving out the fixed cost."""
        return 1.0 / self.per_audio_second

    @classmethod
    def of(cls, runs: Sequence[tuple[float, float]]) -> Fit | None:
        """From (duration, seconds) pairs; None without any."""
        if not runs:
            return None
        total_audio = sum(d for d, _ in runs)
        total_work = sum(w for _, w in runs)
        ratio = cls(0.0, total_work / total_audio)
        n = len(runs)
        if n < 3:
            return ratio
        mean_d, mean_w = total_audio / n, total_work / n
        spread = sum((d - mean_d) ** 2 for d, _ in runs)
        if spread <= 1e-9 * n * max(mean_d, 1.0) ** 2:
            return ratio
        slope = sum((d - mean_d) * (w - mean_w) for d, w in runs) / spread
        fixed = mean_w - slope * mean_d
        if slope <= 0 or fixed < 0:
            return ratio
        return cls(fixed, slope)


class SpeedTable(Durations):
    def __init__(self, models: dict[str, Fit], workers: dict[tuple[str, str], Fit]):
        self.models = models
        self.workers = workers

    @classmethod
    def load(cls, session: Session, models: Iterable[str]) -> SpeedTable:
        by_model: dict[str, Fit] = {}
        by_worker: dict[tuple[str, str], Fit] = {}
        for model in sorted(set(models)):
            rows = session.execute(_RECENT, {"model": model, "sample": SAMPLE}).all()
            runs = [(float(d), float(w)) for _, d, w in rows]
            fit = Fit.of(runs)
            if fit is None:
                continue
            by_model[model] = fit
            per_worker: dict[str, list[tuple[float, float]]] = defaultdict(list)
            for worker, d, w in rows:
                if worker:
                    per_worker[worker].append((float(d), float(w)))
            for worker, worker_runs in per_worker.items():
                worker_fit = Fit.of(worker_runs) if len(worker_runs) >= WORKER_SAMPLE else None
                if worker_fit is not None:
                    by_worker[(model, worker)] = worker_fit
        return cls(by_model, by_worker)

    def seconds(self, model: str, worker: str | None, duration: float | None) -> float | None:
        if duration is None:
            return None
        fit = self.workers.get((model, worker or "")) or self.models.get(model)
        return fit.seconds(duration) if fit is not None else None

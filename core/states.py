"""The job state machine."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    queued = "queued"
    processing = "processing"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({JobStatus.completed, JobStatus.failed, JobStatus.cancelled})

# Allowed transitions. `processing -> queued` is a requeue after a lost worker.
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.queued: frozenset({JobStatus.processing, JobStatus.cancelled, JobStatus.failed}),
    JobStatus.processing: frozenset(
        {JobStatus.completed, JobStatus.failed, JobStatus.cancelled, JobStatus.queued}
    ),
    JobStatus.completed: frozenset(),
    JobStatus.failed: frozenset({JobStatus.queued}),
    JobStatus.cancelled: frozenset({JobStatus.queued}),
}


def can_transition(current: JobStatus, target: JobStatus) -> bool:
    return target in TRANSITIONS[current]

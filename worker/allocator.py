"""The memory allocator settings of a worker process (glibc malloc, set with `mallopt`).

Decoding allocates and frees blocks of tens to a hundred MB at every step (the
batched features, the model's work space). With glibc's defaults each of them comes from the
kernel again: a thread's arena is a heap of at most 64 MB, so the decoding thread's larger
blocks are mapped and unmapped every time, and space freed at the top of the main heap is
handed back as soon as it passes the dynamic trim threshold. One arena and thresholds of
128 MiB keep those blocks in the process, and `release` between windows hands
the free ones back. docs/benchmarks.md ("Worker allocator") has the
figures: kernel time and page faults nearly gone, less wall time, lower peaks.

`WORKER_MALLOC_TUNING=false` leaves the C library's defaults; the `MALLOC_*` environment
variables glibc reads at start-up still apply either way, and these calls override them.
"""

from __future__ import annotations

import ctypes
import platform

ARENA_MAX = 1
THRESHOLD_BYTES = 128 << 20
"""Blocks up to this size come from the heap (not a mapping of their own), and free space at
the heap's top is handed back to the kernel past it."""

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # glibc's <malloc.h>


class _Applied:
    """Whether `tune` set this process's allocator (inherited by the processes it forks)."""

    tuned = False


def tune() -> bool:
    """Apply the settings to this process; False where the C library is not glibc or refused
    one. Call it before the process starts threads: the arena limit counts from the first
    arena a thread is given. Forked children (Celery's pool processes) inherit it."""
    if platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    settings = (
        (M_ARENA_MAX, ARENA_MAX),
        (M_MMAP_THRESHOLD, THRESHOLD_BYTES),
        (M_TRIM_THRESHOLD, THRESHOLD_BYTES),
    )
    _Applied.tuned = all(libc.mallopt(option, value) == 1 for option, value in settings)
    return _Applied.tuned


def release() -> None:
    """Hand the pages of every free block back to the kernel (`malloc_trim(0)`), not only the
    heap's top: the windowed transcription calls it between windows, so a long recording's
    peak memory stays that of one window. A no-op unless `tune` applied the settings (with
    `WORKER_MALLOC_TUNING=false` the C library keeps its own ways)."""
    if _Applied.tuned:
        ctypes.CDLL(None).malloc_trim(0)

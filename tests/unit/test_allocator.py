"""worker.allocator: a thread that allocates, fills and frees a 100 MiB block over and over
gets its pages from the kernel once with the worker's settings, every time without them; and
`release` hands a free block inside the heap back.

Each case runs in a process of its own: the settings are process-wide and would stay in
this one."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from worker import allocator

pytestmark = pytest.mark.unit

BLOCK_MB = 100
ROUNDS = 20
PAGES_PER_BLOCK = BLOCK_MB * 2**20 // 4096

PRELUDE = f"""
import ctypes, os, resource, sys, threading
from worker import allocator
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
size = {BLOCK_MB} << 20
"""
"""What both scripts below begin with: the C library's malloc and free, and the block size."""

CHURN = PRELUDE + textwrap.dedent(
    f"""
    if sys.argv[1] == "tuned":
        assert allocator.tune()

    def churn():
        for _ in range({ROUNDS}):
            block = libc.malloc(size)
            ctypes.memset(block, 1, size)
            libc.free(block)

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    thread = threading.Thread(target=churn)
    thread.start()
    thread.join()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """
)


def page_faults(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", CHURN, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def test_the_settings_apply_on_glibc() -> None:
    assert allocator.THRESHOLD_BYTES > BLOCK_MB << 20
    assert page_faults("tuned") < 2 * PAGES_PER_BLOCK


def test_without_them_every_block_is_mapped_anew() -> None:
    """The case the settings exist for (so the test above can tell them apart)."""
    assert page_faults("default") > ROUNDS // 2 * PAGES_PER_BLOCK


HELD = PRELUDE + textwrap.dedent(
    """
    if sys.argv[1] == "tuned":
        assert allocator.tune()

    def resident_mb():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20

    # Pieces of 64 KiB come from the heap whatever the settings (below every mmap threshold).
    pieces = [libc.malloc(64 << 10) for _ in range((size >> 16) + 1)]
    for piece in pieces:
        ctypes.memset(piece, 1, 64 << 10)
    for piece in pieces[:-1]:  # the last one keeps them from being the heap's top
        libc.free(piece)
    kept = resident_mb()
    allocator.release()
    print(kept, resident_mb())
    """
)


def held(mode: str) -> tuple[int, int]:
    """Resident MB with 100 MiB free inside the heap, before and after `release`."""
    done = subprocess.run(
        [sys.executable, "-c", HELD, mode], capture_output=True, text=True, check=True
    )
    kept, released = (int(value) for value in done.stdout.split())
    return kept, released


def test_release_hands_back_free_space_inside_the_heap() -> None:
    kept, released = held("tuned")
    assert kept - released > BLOCK_MB * 0.9, (kept, released)


def test_release_does_nothing_when_the_settings_are_off() -> None:
    kept, released = held("default")
    assert abs(kept - released) < BLOCK_MB * 0.1, (kept, released)

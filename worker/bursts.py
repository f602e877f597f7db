"""Decoding in a thread of its own, its segments handed over in bursts.

faster-whisper produces segments in bursts: all segments of a batch of VAD chunks (or of one
30 s window, decoding sequentially) at once, then nothing while it decodes the next step.
Pulled one by one in the job's thread, a burst could only be written when the next segment
arrived, a whole decoding step later, and the job's thread waited for each database write.
`Decoding` runs the generator in its own thread: the job's thread takes everything that has
arrived as one burst and writes it while the next step decodes (CTranslate2 releases the GIL
while it computes), so text is stored and published as soon as it is decoded.

A decoding step cannot be interrupted (CTranslate2 has no way to stop a batch), but the job's
thread need not wait for it: `interrupt()` (called when the run learns it no longer owns its
job) ends `bursts()` at once, and `close(timeout)` says whether the decoding thread stopped in
time. One that did not is still computing a step whose result nobody will read: the pipeline
then reports its decoding step abandoned, and the worker replaces the process.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

_END = object()
_INTERRUPTED = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


class Decoding:
    """Iterate `bursts()` once; call `close()` when done (also on error) to stop the thread."""

    def __init__(self, segments: Iterable[Any]):
        self._segments = segments
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="decoding", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        segments = iter(self._segments)
        try:
            for segment in segments:
                self._queue.put(segment)
                if self._stopped.is_set():
                    break
        except BaseException as exc:  # handed to the job's thread, which raises it
            self._queue.put(_Failure(exc))
        finally:
            try:
                close = getattr(segments, "close", None)
                if close is not None:
                    close()
            finally:
                self._queue.put(_END)  # even if closing fails, so the job's thread never hangs

    def bursts(self) -> Iterator[tuple[list[Any], bool]]:
        """Each burst of segments that has arrived, and whether decoding ended with it."""
        finished = False
        while not finished:
            items = [self._queue.get()]
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            burst: list[Any] = []
            for item in items:
                if item is _INTERRUPTED:
                    return  # the segments that came with it are nobody's now
                if isinstance(item, _Failure):
                    raise item.error
                if item is _END:
                    finished = True
                else:
                    burst.append(item)
            yield burst, finished

    def interrupt(self) -> None:
        """End `bursts()` now, without waiting for the step being decoded (any thread)."""
        self._stopped.set()
        self._queue.put(_INTERRUPTED)

    def close(self, timeout: float | None = None) -> bool:
        """Stop decoding after the segment it is working on and wait for the thread (at most
        `timeout` seconds). False if it is still decoding: its step is abandoned."""
        self._stopped.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

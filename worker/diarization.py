"""Speaker labels: the stage after transcription, for a job with `speakers` other than `off`.

The recording is read again in windows (`worker.windows.at_silences`): speech islands and voice
embeddings (`worker.speaker_windows`, `worker.speaker_encoder`), grouped into the requested
number of speakers or an estimated one (`worker.speaker_clusters`), turned into turns and
applied to the transcript's segments and words (`worker.speaker_turns`). `channels` reads
each channel's loudness instead (`worker.speaker_channels`). `1` labels everything `S1`.

The transcript does not depend on this stage: the pipeline keeps it, and records why, when
diarization fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from core import media
from core.events import SegmentOut
from worker.speaker_channels import channel_turns
from worker.speaker_clusters import cluster
from worker.speaker_encoder import SpeakerEncoder, Stopped
from worker.speaker_turns import Turns, from_windows, label
from worker.speaker_windows import embed_recording
from worker.windows import at_silences

CHUNK_SECONDS = 60.0
"""Audio read, embedded and reported as progress at a time."""


@dataclass(frozen=True)
class Diarized:
    segments: list[SegmentOut]
    speakers: list[str]
    """The speaker ids found, `S1`…"""


def speaker_count(mode: str) -> int | None:
    """The requested number of speakers, None for `auto`."""
    return None if mode == "auto" else int(mode)


class Diarizer:
    """Loads the speaker encoder on first use (once per worker process)."""

    def __init__(self, weights: Path | None = None):
        self.weights = weights
        self._encoder: SpeakerEncoder | None = None

    def encoder(self) -> SpeakerEncoder:
        if self._encoder is None:
            self._encoder = SpeakerEncoder.load(self.weights)
        return self._encoder

    def turns(
        self,
        path: Path,
        mode: str,
        *,
        duration: float | None,
        progress: Callable[[float], None],
        stop: Callable[[], bool],
    ) -> Turns | None:
        """Who spoke when; None when stopped."""
        if mode == "channels":
            return channel_turns(path)
        count = speaker_count(mode)
        if count == 1:
            return Turns([(0.0, float("inf"), 0)])
        encoder = self.encoder()
        chunks = at_silences(media.iter_audio(path), CHUNK_SECONDS)
        # One BLAS thread: the LSTM's small products gain nothing from more, and spinning
        # threads cost CPU time on a busy machine (5x measured under load).
        with threadpool_limits(limits=1, user_api="blas"):
            return self._voice_turns(chunks, encoder, count, duration, progress, stop)

    def _voice_turns(
        self,
        chunks: Any,
        encoder: SpeakerEncoder,
        count: int | None,
        duration: float | None,
        progress: Callable[[float], None],
        stop: Callable[[], bool],
    ) -> Turns | None:

        def step(fraction: float) -> bool:
            progress(fraction)
            return not stop()

        voiced = embed_recording(
            chunks, lambda mels: encoder.embed(mels, stop), duration=duration, progress=step
        )
        if voiced is None:
            return None
        labels = cluster(voiced.matrix(), count)
        return from_windows(voiced.islands, voiced.spans, list(labels))

    def run(
        self,
        path: Path,
        mode: str,
        segments: Sequence[SegmentOut],
        *,
        keep_words: bool,
        duration: float | None = None,
        progress: Callable[[float], None] = lambda fraction: None,
        stop: Callable[[], bool] = lambda: False,
    ) -> Diarized | None:
        """The segments with speakers (split where the speaker changes); None when stopped.
        Raises whatever went wrong otherwise (the pipeline keeps the transcript)."""
        try:
            turns = self.turns(path, mode, duration=duration, progress=progress, stop=stop)
        except Stopped:
            return None
        if turns is None:
            return None
        labelled, speakers = label(
            segments, turns, keep_words=keep_words, in_order=mode == "channels"
        )
        return Diarized(labelled, speakers)


def plain(segments: Sequence[SegmentOut], *, keep_words: bool) -> list[SegmentOut]:
    """The segments as transcribed, without the words the stage asked for but the job did
    not (kept when diarization failed)."""
    return [s if keep_words else s.model_copy(update={"words": None}) for s in segments]


def describe(exc: BaseException) -> str:
    text: Any = str(exc) or type(exc).__name__
    return f"Speaker labels could not be made: {text}"

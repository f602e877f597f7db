"""Media probing and decoding with PyAV.

Only plain local files are read and only container formats that hold their media inline are
opened (no playlists, concat lists or network protocols), so an upload can never make the
server read another file or reach the network. Probing runs in a probe process with a time
limit: a file that hangs or crashes the demuxer cannot take the API down with it.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.errors import MediaError

SAMPLE_RATE = 16000

# Demuxers for self-contained media files. HLS, DASH, concat, image sequences, tee and
# every network-facing demuxer are deliberately absent.
ALLOWED_FORMATS = (
    "wav,w64,mp3,flac,ogg,matroska,webm,mov,mp4,m4a,aac,asf,avi,aiff,caf,amr,"
    "mpeg,mpegts,flv,ac3,eac3,au,dts,truehd,mlp,ape,wv,tta,tak,mpc,mpc8,rm,nut,"
    "mxf,dv,gxf,opus,spdif,s16le,adts,loas,xwma,voc"
)
OPEN_OPTIONS = {"protocol_whitelist": "file", "format_whitelist": ALLOWED_FORMATS}
_EXTENSIONS = (
    "3gp aac ac3 aif aifc aiff amr ape asf au avi caf dts dv eac3 flac flv m2ts m4a m4b m4v mka "
    "mkv mov mp2 mp3 mp4 mpc mpeg mpg mts mxf nut oga ogg ogv opus ra rm snd spx tak ts tta voc "
    "w64 wav weba webm wma wmv wv"
)
ACCEPTED_EXTENSIONS = tuple(_EXTENSIONS.split())
"""File name extensions of the formats above, for a file picker: a file is accepted or
refused by what it holds (the probe), never by its name."""

_DECODE_CHECK_SECONDS = 2.0


_MIME = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "aac": "audio/aac",
    "aiff": "audio/aiff",
    "amr": "audio/amr",
    "asf": "video/x-ms-asf",
    "avi": "video/x-msvideo",
    "flv": "video/x-flv",
    "mpegts": "video/mp2t",
    "mpeg": "video/mpeg",
}


@dataclass(frozen=True)
class ProbeResult:
    duration_seconds: float
    media_kind: str  # "audio" or "video"
    container: str
    audio_codec: str

    @property
    def mime(self) -> str:
        name = self.container.split(",")[0]
        if name == "mov":
            return "video/mp4" if self.media_kind == "video" else "audio/mp4"
        if name == "matroska":
            return "video/webm" if self.media_kind == "video" else "audio/webm"
        return _MIME.get(name, f"{self.media_kind}/octet-stream")


def _open(path: Path) -> Any:
    import av

    return av.open(str(path), mode="r", options=dict(OPEN_OPTIONS), metadata_errors="ignore")


class StreamExtent:
    """How long a stream plays, from its packets, whatever its header claims.

    Chained Ogg, concatenated MPEG-TS or FLAC restart their timestamps at every link, so the
    largest timestamp measures one link only. Here each run of rising timestamps is measured
    on its own and the runs are added up; the packets' own durations, added up, are the other
    measure, and the longer of the two counts. Everything stays in the stream's integer time
    base (Fraction arithmetic per packet was most of the probe's time on long files).
    """

    def __init__(self) -> None:
        self.durations = 0
        self._done = 0
        """Length of the runs before the current one."""
        self._start: int | None = None
        self._stop = 0

    def add(self, pts: int | None, duration: int) -> None:
        self.durations += max(duration, 0)
        if pts is None:
            return
        if self._start is None:
            self._start = self._stop = pts
        elif pts < self._stop - max(duration, 1) * 2:  # the timestamps started again
            self._done += self._stop - self._start
            self._start = self._stop = pts
        self._stop = max(self._stop, pts + max(duration, 0))

    @property
    def ticks(self) -> int:
        current = self._stop - self._start if self._start is not None else 0
        return max(self._done + current, self.durations)


def probe_in_process(path: Path) -> ProbeResult:
    """Open, check for a decodable audio stream and measure its real duration."""
    import av

    if path.stat().st_size == 0:
        raise MediaError("The file is empty.", code="empty_file")
    try:
        container = _open(path)
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise MediaError(
            "The file is not a supported audio or video format.", code="unsupported_media"
        ) from exc
    with container:
        audio = next(iter(container.streams.audio), None)
        if audio is None:
            raise MediaError("The file has no audio track.", code="no_audio_stream")
        has_video = any(
            not (s.disposition & av.stream.Disposition.attached_pic)
            for s in container.streams.video
        )
        decoded = 0.0
        extent = StreamExtent()
        try:
            for packet in container.demux(audio):
                extent.add(packet.pts, packet.duration or 0)
                if decoded < _DECODE_CHECK_SECONDS:
                    for frame in packet.decode():
                        decoded += frame.samples / max(frame.sample_rate or SAMPLE_RATE, 1)
        except av.FFmpegError as exc:
            if decoded == 0:
                raise MediaError(
                    "The audio track could not be decoded (damaged or truncated file).",
                    code="undecodable_audio",
                ) from exc
        if decoded == 0:
            raise MediaError(
                "The audio track could not be decoded (damaged or truncated file).",
                code="undecodable_audio",
            )
        duration = max(float(extent.ticks * audio.time_base) if audio.time_base else 0.0, decoded)
        return ProbeResult(
            duration_seconds=round(duration, 3),
            media_kind="video" if has_video else "audio",
            container=container.format.name,
            audio_codec=audio.codec_context.name,
        )


# A probe process answers this many files, then is replaced (bounds whatever a demuxer leaks).
PROBE_PROCESS_USES = 100
# Probe processes kept waiting between uploads; more start when more files are probed at once.
PROBE_PROCESSES_IDLE = 4


def _serve_probes(requests: Any) -> None:
    """A probe process: probe each path it is sent, answer, wait for the next."""
    while True:
        try:
            path = requests.recv()
        except (EOFError, OSError):
            return
        try:
            answer: dict[str, Any] = {"result": asdict(probe_in_process(Path(path)))}
        except MediaError as exc:
            answer = {"error": exc.to_dict()}
        requests.send(answer)


class ProbeProcess:
    def __init__(self, context: Any):
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_serve_probes, args=(theirs,), daemon=True)
        try:
            self.process.start()
        finally:
            theirs.close()
        self.uses = 0

    def ask(self, path: Path, timeout: float) -> dict[str, Any] | None:
        """The process's answer; None if it died without one. Raises on timeout."""
        self.uses += 1
        try:
            self.connection.send(str(path))
        except OSError:  # it died while waiting
            return None
        if not self.connection.poll(timeout):
            raise MediaError("Reading the file took too long.", code="probe_timeout")
        try:
            answer = self.connection.recv()
        except (EOFError, OSError):
            return None
        return answer if isinstance(answer, dict) else None

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.connection.close()


class ProbePool:
    """Probe processes forked from a server process that has PyAV loaded already.

    A probe runs in a process of its own, never in the API: a file that crashes the demuxer
    kills only that process, one that hangs it has the process killed at the time limit; either
    way the process is replaced. A process that answered goes back to the pool for the next
    file: starting one per file cost more CPU than the probe itself (docs/benchmarks.md).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[ProbeProcess] = []
        self._pid = os.getpid()
        self._context: Any = None

    def _take(self) -> ProbeProcess:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's processes are not ours
                self._idle, self._pid = [], os.getpid()
            while self._idle:
                process = self._idle.pop()
                if process.process.is_alive():
                    return process
                process.stop()
            if self._context is None:
                self._context = multiprocessing.get_context("forkserver")
                self._context.set_forkserver_preload(["av", "core.media"])
            context = self._context
        return ProbeProcess(context)

    def _give_back(self, process: ProbeProcess) -> None:
        with self._lock:
            if process.uses < PROBE_PROCESS_USES and len(self._idle) < PROBE_PROCESSES_IDLE:
                self._idle.append(process)
                return
        process.stop()

    def idle_pids(self) -> list[int | None]:
        with self._lock:
            return [p.process.pid for p in self._idle]

    def ask(self, path: Path, timeout: float) -> dict[str, Any] | None:
        """The probe process's answer, None if it died without one; raises on timeout."""
        process = self._take()
        answer = None
        try:
            answer = process.ask(path, timeout)
        finally:
            if answer is None:
                process.stop()
            else:
                self._give_back(process)
        return answer

    def probe(self, path: Path, timeout: float) -> ProbeResult:
        """Probe in a probe process with a time limit."""
        answer = self.ask(path, timeout) or {}
        if "error" in answer:
            raise MediaError(answer["error"]["message"], code=answer["error"]["code"])
        if "result" not in answer:
            raise MediaError("The file could not be read as media.", code="unsupported_media")
        return ProbeResult(**answer["result"])

    def close(self) -> None:
        """Stop the idle probe processes (at shutdown)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for process in idle:
            process.stop()


def check_duration(seconds: float, limit: float) -> None:
    """The one duration rule, at upload (probed length) and in the worker (decoded length)."""
    if seconds > limit:
        raise MediaError(
            f"The media lasts {seconds:.0f} s; the limit is {limit:.0f} s.",
            code="duration_exceeded",
            status_code=422,
        )


def _too_long(max_seconds: float) -> MediaError:
    return MediaError(
        f"The audio lasts longer than the limit of {max_seconds:.0f} s.",
        code="duration_exceeded",
        status_code=422,
    )


def _undecodable() -> MediaError:
    return MediaError("The audio could not be decoded.", code="undecodable_audio")


SEEKABLE_FORMATS = frozenset({"wav", "w64", "aiff", "au", "caf"})
"""Containers whose PCM tracks seek to the exact sample (a position is a byte offset). Other
tracks are decoded from their beginning: compressed formats' seeks land only near a point."""


def seeks_exactly(container: Any, stream: Any) -> bool:
    formats = set(container.format.name.split(","))
    return bool(SEEKABLE_FORMATS & formats) and stream.codec_context.name.startswith("pcm_")


def _seek_target(stream: Any, start: int, sample_rate: int) -> int:
    """Where to seek (in `stream`'s time base) for `start`: a tenth of a second early (the
    resampler settles), on a whole sample both of the track and at `sample_rate` (the blocks
    are then the very samples of a decode from the beginning)."""
    rate = stream.codec_context.sample_rate or sample_rate
    step = sample_rate // math.gcd(rate, sample_rate)
    first = max(0, start - sample_rate // 10) // step * step
    return round(first / sample_rate / stream.time_base)


def iter_audio(
    path: Path, max_seconds: float | None = None, sample_rate: int = SAMPLE_RATE, start: int = 0
) -> Iterator[Any]:
    """The first audio track as mono float32 blocks at `sample_rate` (numpy arrays), decoded
    as they are asked for: one decoded frame's worth of samples is held at a time.

    With `start` (a sample at `sample_rate`), the blocks begin at that sample: a PCM track of
    a `SEEKABLE_FORMATS` container seeks there, any other is decoded from its beginning and
    what comes before `start` is dropped. With `max_seconds`, raises `duration_exceeded` as
    soon as the audio passes it, before the block that passes it is handed out. Raises
    `undecodable_audio` when nothing decodes, or when the audio ends before `start`; a file
    damaged part way ends where its audio stops decoding. Closing the generator closes the
    file."""
    import av
    import numpy as np

    resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
    limit = int(max_seconds * sample_rate) if max_seconds is not None else None
    position = 0  # the sample of the recording the next block begins at
    decoded = False

    def blocks(frames: Any) -> Iterator[Any]:
        nonlocal position, decoded
        for out in frames:
            block = out.to_ndarray().reshape(-1)
            begin, position = position, position + len(block)
            decoded = True
            if limit is not None and max_seconds is not None and position > limit:
                raise _too_long(max_seconds)
            if position > start:
                yield block[max(0, start - begin) :].astype(np.float32) / np.float32(32768.0)

    try:
        with _open(path) as container:
            stream = next(iter(container.streams.audio), None)
            if stream is None:
                raise MediaError("The file has no audio track.", code="no_audio_stream")
            frames = container.decode(stream)
            if start and seeks_exactly(container, stream):
                container.seek(_seek_target(stream, start, sample_rate), stream=stream)
                first = next(frames, None)
                if first is not None and first.pts is not None:
                    position = round(first.pts * first.time_base * sample_rate)
                    yield from blocks(resampler.resample(first))
                else:  # no timestamp to count from: from the beginning
                    container.seek(0, stream=stream)
                    frames = container.decode(stream)
            for frame in frames:
                yield from blocks(resampler.resample(frame))
            yield from blocks(resampler.resample(None))
    except av.FFmpegError as exc:
        if not decoded:
            raise _undecodable() from exc
    if not decoded:
        raise _undecodable()
    if position <= start:
        ends, begins = position / sample_rate, start / sample_rate
        raise MediaError(
            f"The audio ends at {ends:.1f} s, before {begins:.1f} s.", code="undecodable_audio"
        )


def decode_audio(
    path: Path, max_seconds: float | None = None, sample_rate: int = SAMPLE_RATE
) -> Any:
    """The whole first audio track as one mono float32 array at `sample_rate` (`iter_audio`'s
    blocks joined; the worker transcribes window by window instead, `worker.windows`)."""
    import numpy as np

    return np.concatenate(list(iter_audio(path, max_seconds, sample_rate)))

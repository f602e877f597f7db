"""Media probing and decoding with PyAV.

Only plain local files are read and only container formats that hold their media inline are
opened (no playlists, concat lists or network protocols), so an upload can never make the
server read another file or reach the network. Probing runs in a child process with a time
limit: a file that hangs or crashes the demuxer cannot take the API down with it.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import threading
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
        # The end is tracked in the stream's integer time base and converted once: Fraction
        # arithmetic per packet was most of the probe's time on long files.
        end_pts: int | None = None
        try:
            for packet in container.demux(audio):
                if packet.pts is not None:
                    stop = packet.pts + (packet.duration or 0)
                    if end_pts is None or stop > end_pts:
                        end_pts = stop
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
        end = (
            max(0.0, float(end_pts * audio.time_base))
            if end_pts is not None and audio.time_base is not None
            else 0.0
        )
        start = float(audio.start_time * audio.time_base) if audio.start_time else 0.0
        duration = max(end - start, decoded)
        return ProbeResult(
            duration_seconds=round(duration, 3),
            media_kind="video" if has_video else "audio",
            container=container.format.name,
            audio_codec=audio.codec_context.name,
        )


_probe_context: Any = None
_probe_context_lock = threading.Lock()


def _probe_processes() -> Any:
    """Probe processes are forked from a server process that has PyAV loaded already.

    Each probe still runs in a process of its own (a crash or a hang costs only that process),
    but no longer pays for a new interpreter and for importing PyAV, which were most of the
    probe's cost for short files (docs/benchmarks.md).
    """
    global _probe_context
    with _probe_context_lock:
        if _probe_context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["av", "core.media"])
            _probe_context = context
        return _probe_context


def _probe_child(path: str, answer: Any) -> None:
    try:
        answer.send({"result": asdict(probe_in_process(Path(path)))})
    except MediaError as exc:
        answer.send({"error": exc.to_dict()})
    finally:
        answer.close()


def probe(path: Path, timeout: float) -> ProbeResult:
    """Probe in a child process with a time limit."""
    context = _probe_processes()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_probe_child, args=(str(path), sender), daemon=True)
    try:
        try:
            child.start()
        finally:
            sender.close()
        if not receiver.poll(timeout):
            raise MediaError("Reading the file took too long.", code="probe_timeout")
        try:
            answer = receiver.recv()
        except (EOFError, OSError):  # the child died without answering
            answer = {}
    finally:
        if child.pid is not None:
            if child.is_alive():
                child.kill()
            child.join(5)
        receiver.close()
    if not isinstance(answer, dict):
        answer = {}
    if "error" in answer:
        raise MediaError(answer["error"]["message"], code=answer["error"]["code"])
    if "result" not in answer:
        raise MediaError("The file could not be read as media.", code="unsupported_media")
    return ProbeResult(**answer["result"])


def decode_audio(path: Path, sample_rate: int = SAMPLE_RATE) -> Any:
    """Decode the first audio track to mono float32 at `sample_rate` (a numpy array)."""
    import av
    import numpy as np

    resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
    chunks: list[Any] = []
    try:
        with _open(path) as container:
            stream = next(iter(container.streams.audio), None)
            if stream is None:
                raise MediaError("The file has no audio track.", code="no_audio_stream")
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except av.FFmpegError as exc:
        if not chunks:
            raise MediaError("The audio could not be decoded.", code="undecodable_audio") from exc
    if not chunks:
        raise MediaError("The audio could not be decoded.", code="undecodable_audio")
    return np.concatenate(chunks).astype(np.float32) / 32768.0


def _main(argv: list[str]) -> int:
    try:
        result = probe_in_process(Path(argv[1]))
    except MediaError as exc:
        print(json.dumps({"error": exc.to_dict()}))
        return 0
    print(json.dumps({"result": asdict(result)}))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))

"""The answers of OpenAI's audio API, rendered from a finished job and its segments.

`json` is `{"text", "usage"}`; `text`, `srt` and `vtt` are the transcript as text (the same
renderings as the native downloads); `verbose_json` adds `task`, `language` (the detected
code), `duration`, `segments` (`id`, `start`, `end`, `text`; Whisper's per-segment scores are
not kept, so they are not sent) and, when words were asked for, `words` (`word`, `start`,
`end`). `usage` is billed-by-duration style: the audio's seconds, rounded up.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse, Response

from api.openai_compat.form import AudioRequest
from core.models import Segment, Transcription
from core.transcripts import to_srt, to_vtt


def usage(job: Transcription) -> dict[str, Any]:
    return {"type": "duration", "seconds": math.ceil(job.duration_seconds or 0)}


def _segment(segment: Segment) -> dict[str, Any]:
    return {"id": segment.index, "start": segment.start, "end": segment.end, "text": segment.text}


def _words(segments: Sequence[Segment]) -> list[dict[str, Any]]:
    return [
        {"word": str(word.get("word", "")).strip(), "start": word["start"], "end": word["end"]}
        for segment in segments
        for word in segment.words or []
    ]


def verbose(job: Transcription, segments: Sequence[Segment], request: AudioRequest) -> dict:
    body: dict[str, Any] = {
        "task": job.task,
        "language": job.language or job.requested_language or "",
        "duration": job.duration_seconds or 0.0,
        "text": job.text or "",
    }
    if request.segments:
        body["segments"] = [_segment(s) for s in segments]
    if request.words:
        body["words"] = _words(segments)
    body["usage"] = usage(job)
    return body


def render(job: Transcription, segments: Sequence[Segment], request: AudioRequest) -> Response:
    fmt = request.response_format
    if fmt == "json":
        return JSONResponse({"text": job.text or "", "usage": usage(job)})
    if fmt == "verbose_json":
        return Response(
            json.dumps(verbose(job, segments, request), ensure_ascii=False),
            media_type="application/json",
        )
    if fmt == "srt":
        return Response(to_srt(segments, {}), media_type="application/x-subrip; charset=utf-8")
    if fmt == "vtt":
        return Response(to_vtt(segments, {}), media_type="text/vtt; charset=utf-8")
    return Response((job.text or "") + "\n", media_type="text/plain; charset=utf-8")

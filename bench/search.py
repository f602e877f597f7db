"""Benchmark 6: file-name and transcript-text search over a large library.

The library is written straight into Postgres with COPY (completed transcriptions with their
segments); the searches go through HTTP on one keep-alive connection, as a browser's would.
"""

from __future__ import annotations

import io
import logging
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench import recordings
from bench.context import BenchContext
from bench.instance import BenchPlatform
from bench.report import Goal, Section, Table, ms
from bench.stats import percentile

logger = logging.getLogger(__name__)

GOAL_P95 = 0.020
SEGMENTS_PER_JOB = 4
_KINDS = ["team-meeting", "interview", "lecture", "standup", "podcast-episode", "voice-memo"]
_EXTS = ["wav", "mp3", "m4a", "mp4", "ogg"]
# Rarer words spoken in a few transcripts each, so searches span many selectivities.
_RARE = [f"{a}{b}" for a in ("zor", "kel", "vam", "tri", "plo") for b in ("ax", "en", "ito", "um")]

TEXT_QUERIES = [
    "bicycle",
    "quarterly report",
    "tomatoes -soup",
    "zorax",
    "kelito vamum",
    "xylophone",
    # as people type: a half-typed last word, another form of a word, a French word
    "quarterly rep",
    "bicycles ",
    "q",
    "chansons ",
    "cuisine anc",
]
FRENCH_SHARE = 0.1
"""Transcripts in French (detected language fr), the rest English."""
_FRENCH = [
    "Nous chantions des chansons anciennes dans la cuisine",
    "Les enfants mangeaient des pommes au jardin",
    "Le rapport trimestriel arrive vendredi matin",
    "Elle parlait longtemps avec ses voisins",
    "Les trains partaient toujours en retard",
]


def _filename(rng: random.Random, index: int, created: datetime) -> str:
    kind = rng.choice(_KINDS)
    return f"{kind}-{created:%Y-%m-%d}-{index:05d}.{rng.choice(_EXTS)}"


def _tsv(value: object) -> str:
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def populate(database_url: str, rows: int, seed: int = 7) -> None:
    """Insert `rows` completed transcriptions with segments."""
    import psycopg

    rng = random.Random(seed)
    scripts = [recordings.script(45, s) for s in range(500)]
    now = datetime.now(UTC)
    jobs = io.StringIO()
    segments = io.StringIO()
    for index in range(rows):
        job_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        created = now - timedelta(minutes=rows - index)
        french = rng.random() < FRENCH_SHARE
        if french:
            sentences = [rng.choice(_FRENCH) for _ in range(8)]
        else:
            sentences = scripts[rng.randrange(len(scripts))].split(". ")
        rng.shuffle(sentences)
        if rng.random() < 0.05:
            sentences.insert(rng.randrange(len(sentences) + 1), f"Ask {rng.choice(_RARE)} first")
        parts = [". ".join(sentences[i::SEGMENTS_PER_JOB]) for i in range(SEGMENTS_PER_JOB)]
        text = " ".join(parts)
        jobs.write(
            "\t".join(
                _tsv(v)
                for v in (
                    job_id,
                    _filename(rng, index, created),
                    uuid.uuid4().hex,
                    "audio/wav",
                    1_000_000 + index,
                    "0" * 64,
                    "audio",
                    "completed",
                    1.0,
                    60.0,
                    "fr" if french else "en",
                    "tiny.en",
                    "transcribe",
                    "f",
                    "f",
                    created.isoformat(),
                    created.isoformat(),
                    created.isoformat(),
                    (created + timedelta(seconds=20)).isoformat(),
                    1,
                    SEGMENTS_PER_JOB + 2,
                    text,
                )
            )
            + "\n"
        )
        for number, part in enumerate(parts):
            start = number * 15.0
            segments.write(
                f"{job_id}\t{number}\t{number + 2}\t{start}\t{start + 15.0}\t{_tsv(part)}\n"
            )
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        with cursor.copy(
            "COPY transcriptions (id, filename, storage_key, content_type, size_bytes, sha256, "
            "media_kind, status, progress, duration_seconds, language, model, task, "
            "word_timestamps, vad, created_at, enqueued_at, started_at, completed_at, attempts, "
            "last_seq, text) FROM STDIN"
        ) as copy:
            copy.write(jobs.getvalue())
        with cursor.copy(
            'COPY segments (transcription_id, index, seq, start, "end", text) FROM STDIN'
        ) as copy:
            copy.write(segments.getvalue())
        cursor.execute("ANALYZE transcriptions")
        cursor.execute("ANALYZE segments")


def _timed(
    platform: BenchPlatform, param: str, queries: list[str], total: int
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {q: [] for q in queries}
    for query in queries:  # warm-up pass
        platform.http.get("/api/transcriptions", params={param: query}).raise_for_status()
    for number in range(max(total, len(queries))):  # every query at least once
        query = queries[number % len(queries)]
        started = time.perf_counter()
        response = platform.http.get("/api/transcriptions", params={param: query})
        timings[query].append(time.perf_counter() - started)
        response.raise_for_status()
    return timings


def _hits(platform: BenchPlatform, param: str, query: str) -> str:
    body = platform.http.get("/api/transcriptions", params={param: query, "limit": 200}).json()
    count = len(body["items"])
    return f"{count}+" if body["next_cursor"] else str(count)


def run(context: BenchContext, platform: BenchPlatform) -> Section:
    rows = context.scale.search_rows
    context.truncate()
    started = time.perf_counter()
    populate(context.database_url, rows)
    logger.info("search: %d rows inserted in %.1f s", rows, time.perf_counter() - started)

    newest = datetime.now(UTC)
    filename_queries = [
        "meeting",
        "Interview",
        f"-{newest:%Y-%m}-",
        f"lecture-{newest - timedelta(days=1):%Y-%m-%d}",
        f"-{rows // 3:05d}.",
        "nosuchfile",
    ]
    kinds = {
        "file name (`q`)": ("q", filename_queries),
        "transcript text (`text`)": ("text", TEXT_QUERIES),
    }
    results: dict[str, dict[str, list[float]]] = {}
    for name, (param, queries) in kinds.items():
        results[name] = _timed(platform, param, queries, context.scale.search_requests)

    section = Section(
        key="search",
        title="6. Search",
        method=f"""
{rows:,} completed transcriptions ({SEGMENTS_PER_JOB} segments each, about 110 words of text;
{FRENCH_SHARE:.0%} of them French, the rest English, each searched in its language) written
with COPY, then `GET /api/transcriptions?q=…` (file name) and `?text=…` (transcript
text), default page size 50, newest first, over one keep-alive HTTP connection;
{context.scale.search_requests} timed requests per kind, cycling through queries of very
different selectivity (many matches, few, none), after one warm-up pass.
""",
    )
    summary = Table(["search", "p50", "p95", "max"])
    for name, timings in results.items():
        values = [v for vs in timings.values() for v in vs]
        p95 = percentile(values, 95)
        section.goals.append(Goal(f"p95 {name}", f"≤ {ms(GOAL_P95)}", ms(p95), p95 <= GOAL_P95))
        summary.add(name, ms(percentile(values, 50)), ms(p95), ms(max(values)))
    section.tables.append(("", summary))
    detail = Table(["search", "query", "matches (up to 200)", "p50", "p95"])
    for name, timings in results.items():
        param = kinds[name][0]
        for query, values in timings.items():
            detail.add(
                name,
                f"`{query}`",
                _hits(platform, param, query),
                ms(percentile(values, 50)),
                ms(percentile(values, 95)),
            )
    section.tables.append(("Per query:", detail))
    section.data = {name: timings for name, timings in results.items()}
    context.truncate()
    return section

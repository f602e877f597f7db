"""Transcript search as people type: stemmed words in each transcript's language, the last
word also as a prefix.

The stored `text_search` vector of a transcript (migration 0006) holds its words stemmed in
the text search configuration of its detected language (`SEARCH_CONFIGS`; `simple`, no
stemming, when Postgres has no stemmer for it or none was detected) and its plain words. A
search text is read with `websearch_to_tsquery` syntax (`"exact phrase"`, `-excluded`,
`or`), stemmed in the row's configuration; its last word, when it is a plain word the
user is still typing (no space after it), also matches as a prefix of a plain word: "choco"
finds "chocolate", "spreadsheet" finds "spreadsheets", "chanter" finds "chantaient" in a
French transcript.

User text never becomes tsquery syntax: it reaches Postgres only as parameters of
`websearch_to_tsquery`/`plainto_tsquery` (the prefix word is letters and digits only), and the
queries those return are put back in the SQL as quoted constants (`text_matches`).

How a search is answered depends on how common it is, which the planner cannot tell (a
prefix's selectivity is a guess), and the two ways differ a hundredfold: walking the
newest-first index until a page is full reads every row for a word found almost nowhere, and
the GIN index lists every match of a word found in half the rows. So one small query
(`_plan_sql`) computes the per-configuration queries, counts the matches among the newest
SAMPLE transcriptions and, only when those are few, asks the GIN index for up to RARE
matches; the page is then read the way that fits (`text_matches`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, literal_column
from sqlmodel import Session

SEARCH_CONFIGS: dict[str, str] = {
    "ar": "arabic",
    "hy": "armenian",
    "eu": "basque",
    "ca": "catalan",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "no": "norwegian",
    "nn": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
"""Whisper language code -> Postgres text search configuration (migration 0006 holds the same
map in `soundscripter_search_config`)."""

MIN_PREFIX = 2
"""A last word shorter than this matches whole words only (one letter would match nearly
everything)."""

_PREFIX_WORD = re.compile(r"(?:^|\s)([^\W_]+)$")
_CONFIGS = sorted({*SEARCH_CONFIGS.values(), "simple"})
_VECTOR: ColumnElement[Any] = literal_column("transcriptions.text_search")


@dataclass(frozen=True)
class Parts:
    head: str
    """The text before the word being typed (websearch syntax)."""
    word: str | None
    """The word being typed, if the text ends in one."""
    either: bool = False
    """`head or word`: the head ended in the `or` operator."""


def split_query(text: str) -> Parts:
    """The text split before the word being typed; no word when the text ends in a space, a
    quote, an operator, or a word inside an open quote."""
    found = _PREFIX_WORD.search(text)
    if found is None:
        return Parts(text, None)
    head, word = text[: found.start(1)], found.group(1)
    if head.count('"') % 2 or head.rstrip().endswith("-") or word.lower() == "or":
        return Parts(text, None)
    before, _, last = head.rstrip().rpartition(" ")
    if last.lower() == "or" and before.strip():
        return Parts(before, word, either=True)
    return Parts(head, word)


def _per_config_query(parts: Parts) -> str:
    """SQL of the search's tsquery in the configuration `cfg`."""
    query = "websearch_to_tsquery(cfg, :head)"
    if parts.word is not None:
        term = "plainto_tsquery(cfg, :word)"
        if len(parts.word) >= MIN_PREFIX:
            term = f"({term} || to_tsquery('pg_catalog.simple'::regconfig, :prefix))"
        query = f"({query} {'||' if parts.either else '&&'} {term})"
    return query


SAMPLE = 200
"""How many of the newest transcriptions are read first to tell a common search from a rare
one."""

COMMON = 10
"""Matches among the newest SAMPLE rows that make a search common (5 %: a page of 50 lies
within about the newest thousand rows, so the newest-first walk finds it soon)."""

RARE = 1000
"""A search that is not common and has fewer matches than this in the whole GIN index is read
from the index's match list; one with more by the newest-first walk."""


def _plan_sql(parts: Parts) -> str:
    """One row: each configuration and its query (as text), the matches among the newest SAMPLE
    rows (each in its own configuration), and, only when those are fewer than COMMON, up to
    RARE ids matching any configuration's query, read through the GIN index (inside a CASE, so
    not run otherwise; the query is a value of the statement, not a constant, so the planner
    assumes few matches and uses the index whatever the words)."""
    return f"""
WITH queries AS MATERIALIZED (
    SELECT cfg, {_per_config_query(parts)} AS query
    FROM unnest(CAST(:configs AS regconfig[])) AS cfg
),
newest AS (
    SELECT language, text_search FROM transcriptions
    ORDER BY created_at DESC, id DESC LIMIT :sample
),
common AS MATERIALIZED (
    SELECT count(*) AS matches FROM newest
    JOIN queries ON queries.cfg = soundscripter_search_config(newest.language)
    WHERE newest.text_search @@ queries.query
)
SELECT
    (SELECT array_agg(cfg::text) FROM queries) AS configs,
    (SELECT array_agg(query::text) FROM queries) AS queries,
    (SELECT matches FROM common) AS common,
    CASE WHEN (SELECT matches FROM common) < :common THEN ARRAY(
        SELECT id FROM transcriptions
        WHERE text_search @@ (
            SELECT string_agg(DISTINCT '( ' || query::text || ' )', ' | ')::tsquery
            FROM queries WHERE query::text <> ''
        )
        LIMIT :rare
    ) END AS found
"""


@dataclass(frozen=True)
class Plan:
    grouped: dict[str, list[str]]
    """The search's tsquery (canonical text, as Postgres writes it) -> the configurations in
    which the search is that query; configurations where it has no lexeme are left out."""
    common: int
    """Matches among the newest SAMPLE transcriptions."""
    found: list[Any] | None
    """Ids matching any configuration's query (up to RARE), when the search is not common."""


def plan(session: Session, text: str) -> Plan:
    """The search's queries, and how common it is (one statement)."""
    parts = split_query(text)
    values = {
        "configs": [f"pg_catalog.{name}" for name in _CONFIGS],
        "head": parts.head,
        "word": parts.word,
        "prefix": f"{parts.word}:*" if parts.word else None,
        "sample": SAMPLE,
        "common": COMMON,
        "rare": RARE,
    }
    row = session.execute(sa.text(_plan_sql(parts)), values).one()
    grouped: dict[str, list[str]] = {}
    for config, query in zip(row.configs, row.queries, strict=True):
        if query:
            grouped.setdefault(query, []).append(config.removeprefix("pg_catalog."))
    return Plan(grouped, int(row.common), row.found)


def _tsquery(query: str) -> ColumnElement[Any]:
    """A tsquery constant in the SQL text (a quoted literal of Postgres' own output), not a
    parameter: with parameters, a statement prepared after a few runs may get a generic plan
    that computes the query for every row it passes (hundreds of milliseconds)."""
    return literal_column(_quoted(query))


def _quoted(query: str) -> str:
    return "'" + query.replace("'", "''") + "'::tsquery"


def text_matches(session: Session, text: str) -> ColumnElement[bool]:
    """The WHERE condition of a transcript search for `text` (not stripped: a trailing space
    ends the last word): for a common search, or one with RARE matches or more, each row in
    its own language, read by the newest-first walk; for a rare one, the ids the GIN index
    listed (each in its own language too, when the languages' queries differ)."""
    answer = plan(session, text)
    if not answer.grouped:
        return sa.false()
    own = _in_own_language(answer.grouped)
    if answer.common >= COMMON or answer.found is None or len(answer.found) >= RARE:
        return own
    # One array constant (ids Postgres gave), not a parameter per id.
    ids = ",".join(str(uuid.UUID(str(value))) for value in answer.found)
    listed = literal_column(f"transcriptions.id = ANY('{{{ids}}}'::uuid[])", sa.Boolean)
    return listed if _one_query(answer.grouped) else sa.and_(listed, own)


def _one_query(grouped: dict[str, list[str]]) -> bool:
    """Whether every configuration has the same query (none is left out for having no
    lexeme, as a stop word of its language would be)."""
    return len(grouped) == 1 and len(next(iter(grouped.values()))) == len(_CONFIGS)


def _in_own_language(grouped: dict[str, list[str]]) -> ColumnElement[bool]:
    """Each row matched by the query of its own language's configuration (a word stemmed in
    another language is not a match). The row's configuration is computed once (a simple
    CASE); when every configuration has the same query the condition is that query alone (and
    the GIN index answers it exactly)."""
    if _one_query(grouped):
        return _VECTOR.op("@@")(_tsquery(next(iter(grouped))))
    by_config = sorted(
        ((config, query) for query, configs in grouped.items() for config in configs),
        key=lambda pair: pair[0] != "english",
    )
    cases = " ".join(
        f"WHEN 'pg_catalog.{config}'::regconfig THEN transcriptions.text_search @@ {_quoted(query)}"
        for config, query in by_config
    )
    return literal_column(
        f"(CASE soundscripter_search_config(transcriptions.language) {cases} ELSE false END)"
    )

"""The library's pages: filters, sort orders, keyset cursors and the total count.

Every sort order is a key ending in `created_at, id`, unique per row, so a page continues
exactly after the last row of the one before (a keyset cursor, not an offset: rows added or
removed meanwhile neither repeat nor skip rows). Migration 0010 indexes each key. The sort
value of the last row is read from Postgres with the row (file names are compared
lower-cased, as Postgres lower-cases them), so the cursor holds exactly what the next
page's condition compares with.

`total` counts the rows matching the filters (the cursor aside), in the same conditions as
the page, up to a limit: past it, `total_exact` is false and the count stops there. A count of
every match reads every matching row (at 100,000 transcriptions: 250-330 ms for a common word,
50 ms for the whole library). The whole library is counted up to LIBRARY_TOTAL_LIMIT (an index
scan, about 1.5 ms per 10,000 rows); a search or filter up to MATCH_TOTAL_LIMIT, since it
reads and checks rows until it has that many (3-10 µs each, and ten times as many rows as
matches for a filter that keeps a tenth). A first page that holds every match is its own
count; a full first page is counted on from its last row, in its own order.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, literal_column, tuple_
from sqlmodel import Session, col, select

from api.access.keys import Principal
from api.access.visibility import visible_transcriptions
from core import search
from core.errors import InvalidRequest
from core.models import Transcription
from core.states import JobStatus

Sort = Literal["created_at", "filename", "duration", "status"]
Order = Literal["asc", "desc"]

DEFAULT_ORDER: dict[str, Order] = {
    "created_at": "desc",
    "duration": "desc",
    "filename": "asc",
    "status": "asc",
}
"""Newest and longest first; file names and statuses from A to Z."""


@dataclass(frozen=True)
class Listing:
    sort: Sort = "created_at"
    order: Order | None = None
    limit: int = 50
    cursor: str | None = None
    name: str | None = None
    """File name contains (case-insensitive)."""
    text: str | None = None
    """Transcript search (`core.search`)."""
    statuses: Sequence[str] = field(default_factory=list)
    models: Sequence[str] = field(default_factory=list)
    languages: Sequence[str] = field(default_factory=list)

    @property
    def direction(self) -> Order:
        return self.order or DEFAULT_ORDER[self.sort]


LIBRARY_TOTAL_LIMIT = 10_000
"""`total` of the whole library (no search, no filter) counts up to this many rows."""
MATCH_TOTAL_LIMIT = 100
"""`total` of a search (`q`, `text`) or a filter (`status`, `model`, `language`) counts up to
this many matches."""


@dataclass(frozen=True)
class Page:
    jobs: list[Transcription]
    next_cursor: str | None
    total: int
    total_exact: bool


def _first_key(sort: Sort) -> Any:
    """The sort value before `created_at, id`, written as migration 0010 indexes it."""
    if sort == "filename":
        return func.lower(col(Transcription.filename))
    if sort == "duration":
        return func.coalesce(col(Transcription.duration_seconds), literal_column("0"))
    if sort == "status":
        return col(Transcription.status)
    return None


def _key(sort: Sort) -> list[Any]:
    first = _first_key(sort)
    rest: list[Any] = [col(Transcription.created_at), col(Transcription.id)]
    return rest if first is None else [first, *rest]


def parse_list(value: str | None, what: str, allowed: set[str] | None = None) -> list[str]:
    """A comma-separated filter's values (each checked against `allowed` when given)."""
    values = [v.strip() for v in (value or "").split(",") if v.strip()]
    unknown = [v for v in values if allowed is not None and v not in allowed]
    if unknown:
        raise InvalidRequest(
            f"Unknown {what} {unknown[0]!r}; use one of {', '.join(sorted(allowed or ()))}.",
            code=f"invalid_{what}",
        )
    return values


def parse_statuses(value: str | None) -> list[str]:
    return parse_list(value, "status", {s.value for s in JobStatus})


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _encode(listing: Listing, values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else str(v) for v in values[-2:]]
    raw = json.dumps([listing.sort, listing.direction, *values[:-2], *plain]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(listing: Listing) -> list[Any]:
    """The key values of a cursor made for this sort order (a cursor of the newest-first
    order from before sort orders existed, `[created_at, id]`, still reads)."""
    assert listing.cursor is not None
    try:
        raw = base64.urlsafe_b64decode(listing.cursor + "=" * (-len(listing.cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list):
            raise ValueError("not a list")
        if len(values) == 2:
            values = ["created_at", "desc", *values]
        sort, order, *key = values
        if (sort, order) != (listing.sort, listing.direction):
            raise ValueError("another order")
        *first, created, job_id = key
        if len(first) != (0 if listing.sort == "created_at" else 1):
            raise ValueError("another key")
        if listing.sort == "duration":
            first = [float(first[0])]
        elif first and not isinstance(first[0], str):
            raise ValueError("not a name")
        return [*first, datetime.fromisoformat(created), uuid.UUID(job_id)]
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidRequest(
            "The cursor is not valid for this sort order; start from the first page.",
            code="invalid_cursor",
        ) from exc


def _filtered(session: Session, principal: Principal, listing: Listing) -> Any:
    query = visible_transcriptions(principal)
    if listing.name and listing.name.strip():
        pattern = _like_pattern(listing.name.strip())
        query = query.where(col(Transcription.filename).ilike(pattern))
    if listing.text and listing.text.strip():
        # Not stripped at the end: a trailing space ends the word being typed (core.search).
        query = query.where(search.text_matches(session, listing.text.lstrip()))
    for column, values in (
        (Transcription.status, listing.statuses),
        (Transcription.model, listing.models),
        (Transcription.language, listing.languages),
    ):
        if values:
            query = query.where(col(column).in_(list(values)))
    return query


def page(session: Session, principal: Principal, listing: Listing) -> Page:
    """One page of the library and the number of rows matching its filters."""
    filtered = _filtered(session, principal, listing)
    key = _key(listing.sort)
    query = filtered.add_columns(*key[:-2])
    if listing.cursor:
        query = query.where(_after(listing, key, _decode(listing)))
    ordered = [k.desc() if listing.direction == "desc" else k.asc() for k in key]
    rows = session.execute(query.order_by(*ordered).limit(listing.limit + 1)).all()
    shown, more = rows[: listing.limit], len(rows) > listing.limit
    jobs = [row[0] for row in shown]
    last = [*shown[-1][1:], jobs[-1].created_at, jobs[-1].id] if more else None
    next_cursor = _encode(listing, last) if last else None
    if listing.cursor:
        return Page(jobs, next_cursor, *_count(session, filtered.order_by(*ordered), listing, 0))
    if last is None:  # every match is on this first page: it is its own count
        return Page(jobs, None, len(jobs), True)
    # A full first page: the count goes on from its last row, as the page's own walk would
    # (counted from the top, the planner may choose another way: a file-name pattern found
    # in most rows read from the trigram index, every candidate rechecked, 5-100 ms).
    rest = filtered.where(_after(listing, key, last)).order_by(*ordered)
    return Page(jobs, next_cursor, *_count(session, rest, listing, len(jobs)))


def _after(listing: Listing, key: list[Any], values: Sequence[Any]) -> Any:
    """The rows after the one whose sort key is `values`, in the listing's order."""
    after, at = tuple_(*key), tuple_(*values)
    return after < at if listing.direction == "desc" else after > at


def _total_limit(listing: Listing) -> int:
    searched = any(v and v.strip() for v in (listing.name, listing.text))
    filtered_by = listing.statuses or listing.models or listing.languages
    return MATCH_TOTAL_LIMIT if searched or filtered_by else LIBRARY_TOTAL_LIMIT


def _count(session: Session, ordered: Any, listing: Listing, before: int) -> tuple[int, bool]:
    """`before` (rows counted already) and the matches of `ordered` (the page's query, in its
    order) up to the listing's limit, and whether that is all of them."""
    limit = _total_limit(listing)
    wanted = max(limit - before, 0) + 1
    counted = ordered.with_only_columns(col(Transcription.id)).limit(wanted)
    found = int(session.exec(select(func.count()).select_from(counted.subquery())).one())
    total = before + found
    return min(total, limit), total <= limit

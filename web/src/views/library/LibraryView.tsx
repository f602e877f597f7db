// The library page: every transcription as a work list: sorted by a column, filtered, counted,
// searchable, with running rows live and actions on the chosen rows at once.

import { useCallback, useEffect, useState } from "react";
import { ApiError, bulkAction } from "../../api/client";
import { Notice, Spinner } from "../../components/Notice";
import { Link, navigate, useLocation } from "../../router";
import { useJobsDispatch, useWatchJobs } from "../../state/JobsProvider";
import { useModels } from "../../state/serverInfo";
import { useDebouncedValue } from "../useDebouncedValue";
import { useDocumentTitle } from "../useDocumentTitle";
import { defaultOrder, filtersFromSearch, isFiltered, NO_FILTERS, searchFromFilters, type Filters, type SortColumn } from "./filters";
import { LibraryBulkBar, type BulkVerb } from "./LibraryBulkBar";
import { LibraryFilters } from "./LibraryFilters";
import { LibraryTable } from "./LibraryTable";
import { useLibraryPages } from "./useLibraryPages";

const SEARCH_DELAY_MS = 300;

function totalText(total: { count: number; exact: boolean } | null, filtered: boolean): string {
  if (total === null) return "Every transcription.";
  const one = total.count === 1 && total.exact;
  const figure = `${total.count.toLocaleString("en-US")}${total.exact ? "" : "+"}`;
  const count = one ? "1 transcription" : `${figure} transcriptions`;
  return filtered ? `${count} ${one ? "matches" : "match"}` : count;
}

export function LibraryView() {
  useDocumentTitle("Library");
  const location = useLocation();
  const [filters, setFilters] = useState<Filters>(() => filtersFromSearch(location.search));
  const q = useDebouncedValue(filters.q.trim(), SEARCH_DELAY_MS);
  const text = useDebouncedValue(filters.text.trim(), SEARCH_DELAY_MS);
  const applied: Filters = { ...filters, q, text };
  const appliedKey = searchFromFilters(applied);
  const pages = useLibraryPages(applied);
  const { items, load, total, reload } = pages;
  const models = useModels();
  const jobsDispatch = useJobsDispatch();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ tone: "done" | "error"; text: string } | null>(null);

  const onSelect = useCallback((ids: readonly string[], on: boolean) => {
    setSelected((previous) => {
      const next = new Set(previous);
      for (const id of ids) {
        if (on) next.add(id);
        else next.delete(id);
      }
      return next;
    });
  }, []);

  // Only rows still listed stay chosen when the list changes.
  useEffect(() => {
    setSelected((previous) => {
      const listed = new Set(items.map((item) => item.id));
      const kept = [...previous].filter((id) => listed.has(id));
      return kept.length === previous.size ? previous : new Set(kept);
    });
  }, [items]);

  const onSort = (column: SortColumn) =>
    setFilters((current) => ({
      ...current,
      sort: column,
      order: current.sort === column ? (current.order === "asc" ? "desc" : "asc") : defaultOrder(column),
    }));

  const runBulk = async (verb: BulkVerb) => {
    const ids = [...selected];
    setBusy(true);
    setOutcome(null);
    try {
      const { results } = await bulkAction(verb, ids);
      const refused = results.filter((result) => !result.ok);
      if (verb === "delete") {
        for (const result of results) if (result.ok) jobsDispatch({ type: "removed", id: result.id });
      }
      const done = results.length - refused.length;
      const past = { delete: "deleted", retry: "queued again", cancel: "cancelled" }[verb];
      const first = refused[0]?.error?.message;
      setOutcome({
        tone: refused.length > 0 ? "error" : "done",
        text: `${done} ${past}` + (refused.length > 0 ? `; ${refused.length} not: ${first ?? "refused"}` : "."),
      });
      setSelected(new Set(refused.map((result) => result.id)));
    } catch (error) {
      setOutcome({ tone: "error", text: error instanceof ApiError ? error.message : String(error) });
    } finally {
      setBusy(false);
      reload();
    }
  };

  useEffect(() => {
    navigate(`/library${appliedKey}`, { replace: true });
  }, [appliedKey]);

  useWatchJobs(items.map((item) => item.id));

  const searching = load.kind === "loading" && items.length > 0;

  return (
    <div className="view view--library">
      <header className="view__header view__header--row">
        <div>
          <h1 tabIndex={-1}>Library</h1>
          <p className="view__lead" data-testid="library-total">
            {totalText(total, isFiltered(applied))}
          </p>
        </div>
        <button type="button" className="button button--quiet" onClick={pages.reload}>
          Refresh
        </button>
      </header>

      <LibraryFilters value={filters} onChange={setFilters} models={models} />

      {selected.size > 0 ? (
        <LibraryBulkBar ids={[...selected]} busy={busy} onAction={(verb) => void runBulk(verb)} onClear={() => setSelected(new Set())} />
      ) : null}
      {outcome ? (
        <p className={`library__outcome ${outcome.tone === "error" ? "error-text" : "muted"}`} role="status">
          {outcome.text}
        </p>
      ) : null}

      <div className="library__state" aria-live="polite">
        {searching ? <Spinner label="Searching…" /> : null}
        {load.kind === "ready" && items.length > 0 ? (
          <span className="visually-hidden">
            {items.length} {items.length === 1 ? "transcription" : "transcriptions"} shown
          </span>
        ) : null}
      </div>

      {load.kind === "loading" && items.length === 0 ? <Spinner label="Loading transcriptions…" /> : null}

      {load.kind === "error" ? (
        <Notice
          tone="error"
          title={load.error.isNetwork ? "The server cannot be reached" : "The library could not be loaded"}
          action={
            <button type="button" className="button" onClick={pages.reload}>
              Try again
            </button>
          }
        >
          {load.error.message}
        </Notice>
      ) : null}

      {load.kind === "ready" && items.length === 0 ? (
        isFiltered(applied) ? (
          <Notice
            tone="empty"
            title="No transcriptions match"
            action={
              <button type="button" className="button button--quiet" onClick={() => setFilters(NO_FILTERS)}>
                Clear filters
              </button>
            }
          >
            Try another name or word, or a different status.
          </Notice>
        ) : (
          <Notice tone="empty" title="No transcriptions yet" action={<Link className="button" to="/">Upload files</Link>}>
            Uploaded recordings and their transcripts will be listed here.
          </Notice>
        )
      ) : null}

      {items.length > 0 && load.kind !== "error" ? (
        <LibraryTable
          items={items}
          stale={searching}
          textQuery={text}
          hasMore={Boolean(pages.nextCursor)}
          loadingMore={pages.loadingMore}
          moreError={pages.moreError}
          onLoadMore={pages.loadMore}
          sort={applied.sort}
          order={applied.order}
          onSort={onSort}
          selected={selected}
          onSelect={onSelect}
        />
      ) : null}
    </div>
  );
}

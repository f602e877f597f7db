// The library page: every transcription, newest first, searchable, with running rows live.

import { useEffect, useState } from "react";
import { Notice, Spinner } from "../../components/Notice";
import { Link, navigate, useLocation } from "../../router";
import { useWatchJobs } from "../../state/JobsProvider";
import { useDebouncedValue } from "../useDebouncedValue";
import { useDocumentTitle } from "../useDocumentTitle";
import { filtersFromSearch, NO_FILTERS, searchFromFilters, type Filters } from "./filters";
import { LibraryFilters } from "./LibraryFilters";
import { LibraryTable } from "./LibraryTable";
import { useLibraryPages } from "./useLibraryPages";

const SEARCH_DELAY_MS = 300;

export function LibraryView() {
  useDocumentTitle("Library");
  const location = useLocation();
  const [filters, setFilters] = useState<Filters>(() => filtersFromSearch(location.search));
  const q = useDebouncedValue(filters.q.trim(), SEARCH_DELAY_MS);
  const text = useDebouncedValue(filters.text.trim(), SEARCH_DELAY_MS);
  const applied: Filters = { q, text, status: filters.status };
  const appliedKey = searchFromFilters(applied);
  const pages = useLibraryPages(applied);
  const { items, load } = pages;

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
          <p className="view__lead">Every transcription, newest first.</p>
        </div>
        <button type="button" className="button button--quiet" onClick={pages.reload}>
          Refresh
        </button>
      </header>

      <LibraryFilters value={filters} onChange={setFilters} />

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
        appliedKey !== "" ? (
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
        />
      ) : null}
    </div>
  );
}

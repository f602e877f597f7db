// The library's list: the first page for the current filters, then "Load more" pages.
// Every record read also goes to the jobs store, which keeps running rows up to date.

import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, listTranscriptions } from "../../api/client";
import type { TranscriptionSummary } from "../../api/types";
import { useJobsDispatch } from "../../state/JobsProvider";
import { filtersFromSearch, listQuery, searchFromFilters, type Filters } from "./filters";

export const PAGE_SIZE = 25;

export type LoadState = { kind: "loading" } | { kind: "ready" } | { kind: "error"; error: ApiError };

export interface LibraryPages {
  items: readonly TranscriptionSummary[];
  /** How many transcriptions match, on every page (null before the first page). */
  /** How many transcriptions match; `exact` is false when there are more than `count`. */
  total: { count: number; exact: boolean } | null;
  nextCursor: string | null;
  load: LoadState;
  loadingMore: boolean;
  moreError: ApiError | null;
  loadMore: () => void;
  reload: () => void;
}

export function useLibraryPages(filters: Filters): LibraryPages {
  // The filters as their query string: a new list is read when (and only when) it changes.
  const filtersKey = searchFromFilters(filters);
  const [items, setItems] = useState<TranscriptionSummary[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [total, setTotal] = useState<LibraryPages["total"]>(null);
  const [load, setLoad] = useState<LoadState>({ kind: "loading" });
  const [moreError, setMoreError] = useState<ApiError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [reloadToken, setReloadToken] = useState(0);
  const requestRef = useRef<AbortController | null>(null);
  const jobsDispatch = useJobsDispatch();

  const remember = useCallback(
    (page: readonly TranscriptionSummary[]) => {
      for (const transcription of page) jobsDispatch({ type: "loaded", transcription });
    },
    [jobsDispatch],
  );

  useEffect(() => {
    const controller = new AbortController();
    requestRef.current?.abort();
    requestRef.current = controller;
    setLoad({ kind: "loading" });
    setMoreError(null);
    listTranscriptions({ limit: PAGE_SIZE, ...listQuery(filtersFromSearch(filtersKey)) }, controller.signal)
      .then((page) => {
        if (controller.signal.aborted) return;
        remember(page.items);
        setItems(page.items);
        setTotal(typeof page.total === "number" ? { count: page.total, exact: page.total_exact !== false } : null);
        setNextCursor(page.next_cursor ?? null);
        setLoad({ kind: "ready" });
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setLoad({ kind: "error", error: error instanceof ApiError ? error : new ApiError(0, "unknown", String(error)) });
      });
    return () => controller.abort();
  }, [filtersKey, reloadToken, remember]);

  const loadMore = () => {
    if (!nextCursor || loadingMore) return;
    const controller = requestRef.current ?? new AbortController();
    setLoadingMore(true);
    setMoreError(null);
    listTranscriptions({ limit: PAGE_SIZE, cursor: nextCursor, ...listQuery(filtersFromSearch(filtersKey)) }, controller.signal)
      .then((page) => {
        if (controller.signal.aborted) return;
        remember(page.items);
        setItems((previous) => {
          const seen = new Set(previous.map((item) => item.id));
          return [...previous, ...page.items.filter((item) => !seen.has(item.id))];
        });
        setNextCursor(page.next_cursor ?? null);
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setMoreError(error instanceof ApiError ? error : null);
      })
      .finally(() => setLoadingMore(false));
  };

  const reload = useCallback(() => setReloadToken((n) => n + 1), []);

  return { items, total, nextCursor, load, loadingMore, moreError, loadMore, reload };
}

import { memo, useCallback, useEffect, useId, useRef, useState } from "react";
import { ApiError, listTranscriptions } from "../api/client";
import { STATUSES, type Status, type Transcription } from "../api/types";
import { Notice, Spinner } from "../components/Notice";
import { ProgressBar } from "../components/ProgressBar";
import { SearchIcon } from "../components/Icons";
import { StatusBadge } from "../components/StatusBadge";
import { formatDate, formatDuration, formatPercent, languageName } from "../format";
import { Link, navigate, useLocation } from "../router";
import type { JobState } from "../state/jobs";
import { useJobs, useJobsDispatch, useWatchJobs } from "../state/JobsProvider";
import { snippetFor } from "../snippet";
import { STATUS_LABELS } from "../status";
import { useDebouncedValue } from "./useDebouncedValue";
import { useDocumentTitle } from "./useDocumentTitle";

export const PAGE_SIZE = 25;
const SEARCH_DELAY_MS = 300;

interface Filters {
  q: string;
  text: string;
  status: Status | "";
}

function filtersFromSearch(search: string): Filters {
  const params = new URLSearchParams(search);
  const status = params.get("status") ?? "";
  return {
    q: params.get("q") ?? "",
    text: params.get("text") ?? "",
    status: (STATUSES as readonly string[]).includes(status) ? (status as Status) : "",
  };
}

function searchFromFilters(filters: Filters): string {
  const params = new URLSearchParams();
  if (filters.q) params.set("q", filters.q);
  if (filters.text) params.set("text", filters.text);
  if (filters.status) params.set("status", filters.status);
  const query = params.toString();
  return query ? `?${query}` : "";
}

type LoadState =
  | { kind: "loading" }
  | { kind: "ready" }
  | { kind: "error"; error: ApiError };

interface RowProps {
  item: Transcription;
  job: JobState | undefined;
  textQuery: string;
}

const LibraryRow = memo(function LibraryRow({ item, job, textQuery }: RowProps) {
  const status = job?.status ?? item.status;
  const progress = job?.progress ?? item.progress;
  const duration = job?.durationSeconds ?? item.duration_seconds;
  const language = job?.language ?? item.language;
  const snippet = textQuery ? snippetFor(job?.text ?? item.text, textQuery) : null;
  return (
    <tr data-id={item.id} data-status={status}>
      <th scope="row" className="library__name">
        <Link to={`/transcriptions/${encodeURIComponent(item.id)}`}>{item.filename}</Link>
        {snippet ? (
          <span className="library__snippet">
            {snippet.before}
            <mark>{snippet.match}</mark>
            {snippet.after}
          </span>
        ) : null}
      </th>
      <td data-label="Status">
        <div className="library__status">
          <StatusBadge status={status} />
          {status === "processing" ? (
            <span className="library__progress">
              <ProgressBar value={progress} label={`Transcription progress of ${item.filename}`} />
              <span className="small muted">{formatPercent(progress)}</span>
            </span>
          ) : null}
        </div>
      </td>
      <td data-label="Duration" className="numeric">
        {formatDuration(duration)}
      </td>
      <td data-label="Language">{language ? languageName(language) : "—"}</td>
      <td data-label="Created">
        <time dateTime={item.created_at}>{formatDate(item.created_at)}</time>
      </td>
    </tr>
  );
});

export function LibraryView() {
  useDocumentTitle("Library");
  const location = useLocation();
  const initial = useRef(filtersFromSearch(location.search));
  const [q, setQ] = useState(initial.current.q);
  const [text, setText] = useState(initial.current.text);
  const [status, setStatus] = useState<Status | "">(initial.current.status);
  const debouncedQ = useDebouncedValue(q.trim(), SEARCH_DELAY_MS);
  const debouncedText = useDebouncedValue(text.trim(), SEARCH_DELAY_MS);

  const [items, setItems] = useState<Transcription[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [load, setLoad] = useState<LoadState>({ kind: "loading" });
  const [moreError, setMoreError] = useState<ApiError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [reloadToken, setReloadToken] = useState(0);
  const requestRef = useRef<AbortController | null>(null);

  const jobs = useJobs();
  const jobsDispatch = useJobsDispatch();
  const ids = useId();

  const filters: Filters = { q: debouncedQ, text: debouncedText, status };
  const filtersKey = searchFromFilters(filters);
  const hasFilters = filtersKey !== "";

  useEffect(() => {
    navigate(`/library${filtersKey}`, { replace: true });
  }, [filtersKey]);

  const remember = useCallback(
    (page: Transcription[]) => {
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
    const { q: name, text: words, status: state } = filtersFromSearch(filtersKey);
    listTranscriptions({ limit: PAGE_SIZE, q: name, text: words, status: state }, controller.signal)
      .then((page) => {
        if (controller.signal.aborted) return;
        remember(page.items);
        setItems(page.items);
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
    const { q: name, text: words, status: state } = filtersFromSearch(filtersKey);
    listTranscriptions({ limit: PAGE_SIZE, cursor: nextCursor, q: name, text: words, status: state }, controller.signal)
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

  useWatchJobs(items.map((item) => item.id));

  const clearFilters = () => {
    setQ("");
    setText("");
    setStatus("");
  };

  const searching = load.kind === "loading" && items.length > 0;

  return (
    <div className="view view--library">
      <header className="view__header view__header--row">
        <div>
          <h1 tabIndex={-1}>Library</h1>
          <p className="view__lead">Every transcription, newest first.</p>
        </div>
        <button type="button" className="button button--quiet" onClick={() => setReloadToken((n) => n + 1)}>
          Refresh
        </button>
      </header>

      <form className="filters" role="search" aria-label="Filter transcriptions" onSubmit={(event) => event.preventDefault()}>
        <div className="field field--search">
          <label htmlFor={`${ids}-q`}>File name</label>
          <span className="input-with-icon">
            <SearchIcon size={16} />
            <input
              id={`${ids}-q`}
              type="search"
              placeholder="Search file names"
              value={q}
              onChange={(event) => setQ(event.target.value)}
              autoComplete="off"
            />
          </span>
        </div>
        <div className="field field--search">
          <label htmlFor={`${ids}-text`}>Transcript text</label>
          <span className="input-with-icon">
            <SearchIcon size={16} />
            <input
              id={`${ids}-text`}
              type="search"
              placeholder="Search inside transcripts"
              value={text}
              onChange={(event) => setText(event.target.value)}
              autoComplete="off"
            />
          </span>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-status`}>Status</label>
          <select id={`${ids}-status`} value={status} onChange={(event) => setStatus(event.target.value as Status | "")}>
            <option value="">All</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {STATUS_LABELS[value]}
              </option>
            ))}
          </select>
        </div>
      </form>

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
            <button type="button" className="button" onClick={() => setReloadToken((n) => n + 1)}>
              Try again
            </button>
          }
        >
          {load.error.message}
        </Notice>
      ) : null}

      {load.kind === "ready" && items.length === 0 ? (
        hasFilters ? (
          <Notice
            tone="empty"
            title="No transcriptions match"
            action={
              <button type="button" className="button button--quiet" onClick={clearFilters}>
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
        <div className={`library${searching ? " library--stale" : ""}`}>
          <table className="library__table">
            <caption className="visually-hidden">Transcriptions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Status</th>
                <th scope="col" className="numeric">
                  Duration
                </th>
                <th scope="col">Language</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <LibraryRow key={item.id} item={item} job={jobs[item.id]} textQuery={debouncedText} />
              ))}
            </tbody>
          </table>
          <div className="library__more">
            {moreError ? <p className="error-text" role="alert">{moreError.message}</p> : null}
            {nextCursor ? (
              <button type="button" className="button" onClick={loadMore} disabled={loadingMore}>
                {loadingMore ? "Loading…" : "Load more"}
              </button>
            ) : (
              <p className="muted small">
                {items.length === 1 ? "1 transcription" : `${items.length} transcriptions`} · end of list
              </p>
            )}
          </div>
        </div>
      ) : null}
    </div>
  );
}

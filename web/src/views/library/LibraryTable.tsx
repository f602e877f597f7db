// The listed transcriptions, newest first, and the way to the next page.

import type { TranscriptionSummary } from "../../api/types";
import type { ApiError } from "../../api/client";
import { useJobs } from "../../state/JobsProvider";
import { LibraryRow } from "./LibraryRow";

interface LibraryTableProps {
  items: readonly TranscriptionSummary[];
  /** A newer list is being read: the rows shown may be out of date. */
  stale: boolean;
  textQuery: string;
  hasMore: boolean;
  loadingMore: boolean;
  moreError: ApiError | null;
  onLoadMore: () => void;
}

export function LibraryTable({ items, stale, textQuery, hasMore, loadingMore, moreError, onLoadMore }: LibraryTableProps) {
  const jobs = useJobs();
  return (
    <div className={`library${stale ? " library--stale" : ""}`}>
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
            <LibraryRow key={item.id} item={item} job={jobs[item.id]} textQuery={textQuery} />
          ))}
        </tbody>
      </table>
      <div className="library__more">
        {moreError ? <p className="error-text" role="alert">{moreError.message}</p> : null}
        {hasMore ? (
          <button type="button" className="button" onClick={onLoadMore} disabled={loadingMore}>
            {loadingMore ? "Loading…" : "Load more"}
          </button>
        ) : (
          <p className="muted small">
            {items.length === 1 ? "1 transcription" : `${items.length} transcriptions`} · end of list
          </p>
        )}
      </div>
    </div>
  );
}

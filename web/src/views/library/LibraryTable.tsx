// The listed transcriptions in the chosen order, with a checkbox per row, and the way to the
// next page.

import type { TranscriptionSummary } from "../../api/types";
import type { ApiError } from "../../api/client";
import { useJobs } from "../../state/JobsProvider";
import type { SortColumn, SortOrder } from "./filters";
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
  sort: SortColumn;
  order: SortOrder;
  onSort: (column: SortColumn) => void;
  selected: ReadonlySet<string>;
  onSelect: (ids: readonly string[], on: boolean) => void;
}

const COLUMN_NAMES: Record<SortColumn, string> = {
  filename: "File",
  status: "Status",
  duration: "Duration",
  created_at: "Created",
};

function SortHeader({ column, sort, order, onSort, numeric = false }: { column: SortColumn; sort: SortColumn; order: SortOrder; onSort: (column: SortColumn) => void; numeric?: boolean }) {
  const current = column === sort;
  return (
    <th
      scope="col"
      className={numeric ? "numeric" : undefined}
      aria-sort={current ? (order === "asc" ? "ascending" : "descending") : undefined}
    >
      <button type="button" className="sort-button" onClick={() => onSort(column)}>
        {COLUMN_NAMES[column]}
        <span aria-hidden="true" className="sort-button__mark">
          {current ? (order === "asc" ? "▲" : "▼") : ""}
        </span>
      </button>
    </th>
  );
}

export function LibraryTable(props: LibraryTableProps) {
  const { items, stale, textQuery, hasMore, loadingMore, moreError, onLoadMore, sort, order, onSort, selected, onSelect } = props;
  const jobs = useJobs();
  const ids = items.map((item) => item.id);
  const chosen = ids.filter((id) => selected.has(id)).length;
  const header = { sort, order, onSort };
  return (
    <div className={`library${stale ? " library--stale" : ""}`}>
      <table className="library__table">
        <caption className="visually-hidden">Transcriptions; the column headers change the order</caption>
        <thead>
          <tr>
            <th scope="col" className="library__pick">
              <input
                type="checkbox"
                aria-label="Select every listed transcription"
                checked={chosen > 0 && chosen === ids.length}
                ref={(box) => {
                  if (box) box.indeterminate = chosen > 0 && chosen < ids.length;
                }}
                onChange={(event) => onSelect(ids, event.target.checked)}
              />
            </th>
            <SortHeader column="filename" {...header} />
            <SortHeader column="status" {...header} />
            <SortHeader column="duration" numeric {...header} />
            <th scope="col">Language</th>
            <SortHeader column="created_at" {...header} />
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <LibraryRow
              key={item.id}
              item={item}
              job={jobs[item.id]}
              textQuery={textQuery}
              selected={selected.has(item.id)}
              onSelect={onSelect}
            />
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

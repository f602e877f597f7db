// One transcription in the library table; its status and progress follow the job live.

import { memo } from "react";
import type { TranscriptionSummary } from "../../api/types";
import { ProgressBar } from "../../components/ProgressBar";
import { StatusBadge } from "../../components/StatusBadge";
import { formatBytes, formatDate, formatDuration, formatPercent, languageName } from "../../format";
import { Link } from "../../router";
import { snippetFor } from "../../snippet";
import { applySnapshot, type JobState } from "../../state/jobs";

interface LibraryRowProps {
  item: TranscriptionSummary;
  /** The job as the store holds it (absent: as listed). */
  job: JobState | undefined;
  textQuery: string;
  selected: boolean;
  onSelect: (ids: readonly string[], on: boolean) => void;
}

export const LibraryRow = memo(function LibraryRow({ item, job, textQuery, selected, onSelect }: LibraryRowProps) {
  const { record } = job ?? applySnapshot(undefined, item);
  const { status, progress } = record;
  const snippet = textQuery ? snippetFor(record.text ?? item.text, textQuery) : null;
  return (
    <tr data-id={item.id} data-status={status} className={selected ? "is-selected" : undefined}>
      <td className="library__pick" data-label="Select">
        <input
          type="checkbox"
          aria-label={`Select ${item.filename}`}
          checked={selected}
          onChange={(event) => onSelect([item.id], event.target.checked)}
        />
      </td>
      <th scope="row" className="library__name">
        <Link to={`/transcriptions/${encodeURIComponent(item.id)}`}>{item.filename}</Link>
        {/* Size and model tell apart files of the same name. */}
        <span className="library__meta">
          {formatBytes(item.size_bytes)} · {item.model}
        </span>
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
        {formatDuration(record.duration_seconds)}
      </td>
      <td data-label="Language">{record.language ? languageName(record.language) : "—"}</td>
      <td data-label="Created">
        <time dateTime={item.created_at}>{formatDate(item.created_at)}</time>
      </td>
    </tr>
  );
});

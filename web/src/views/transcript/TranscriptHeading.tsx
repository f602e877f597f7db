// The transcript's title and what is known of the job (status, duration, language, model, …).

import { StatusBadge } from "../../components/StatusBadge";
import { formatDate, formatDuration, languageName } from "../../format";
import type { JobRecord } from "../../state/jobs";

export function TranscriptHeading({ record }: { record: JobRecord }) {
  return (
    <div className="transcript__heading">
      <h1 tabIndex={-1} className="transcript__title">
        {record.filename || "Untitled"}
      </h1>
      <p className="transcript__meta">
        <StatusBadge status={record.status} />
        <span>{formatDuration(record.duration_seconds)}</span>
        {record.language ? <span>{languageName(record.language)}</span> : null}
        {record.model ? <span>Model {record.model}</span> : null}
        {record.precise_timestamps !== undefined ? (
          <span>Timestamps: {record.precise_timestamps ? "precise" : "estimated within sentences"}</span>
        ) : null}
        {record.edited ? (
          <span className="transcript__edited">
            Edited{record.edited_at ? <> <time dateTime={record.edited_at}>{formatDate(record.edited_at)}</time></> : null}
          </span>
        ) : null}
        {record.created_at ? (
          <span>
            <time dateTime={record.created_at}>{formatDate(record.created_at)}</time>
          </span>
        ) : null}
      </p>
    </div>
  );
}

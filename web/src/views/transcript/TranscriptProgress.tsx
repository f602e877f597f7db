// How far the job is: progress while it runs, the reason when it failed, a note when cancelled.

import { Notice } from "../../components/Notice";
import { ProgressBar } from "../../components/ProgressBar";
import { formatPercent } from "../../format";
import type { JobRecord } from "../../state/jobs";

export function TranscriptProgress({ record }: { record: JobRecord }) {
  const { status } = record;
  if (status === "queued" || status === "processing") {
    return (
      <div className="transcript__progress" aria-live="polite">
        <div className="transcript__progress-label">
          <span>{status === "queued" ? "Waiting for a worker…" : "Transcribing — segments appear as they are recognised"}</span>
          {status === "processing" ? <span className="numeric">{formatPercent(record.progress)}</span> : null}
        </div>
        <ProgressBar value={status === "queued" ? null : record.progress} label="Transcription progress" />
      </div>
    );
  }
  if (status === "failed") {
    return (
      <Notice tone="error" title="Transcription failed">
        {record.error ? (
          <>
            {record.error.message} <span className="muted">({record.error.code})</span>
          </>
        ) : (
          "The job stopped with an error."
        )}
      </Notice>
    );
  }
  if (status === "cancelled") {
    return <Notice title="Transcription cancelled">Retry to transcribe this file again.</Notice>;
  }
  return null;
}

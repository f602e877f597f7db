// How far the job is: progress and the estimated end while it runs, the restart when its worker
// was lost, the reason when it failed, a note when cancelled.

import { Notice } from "../../components/Notice";
import { ProgressBar } from "../../components/ProgressBar";
import { formatPercent } from "../../format";
import { queueLine } from "../../queueText";
import type { JobRecord } from "../../state/jobs";
import { useNow } from "../useNow";
import { restartNote } from "./useEarlierRun";

function runningLabel(record: JobRecord): string {
  if (record.status === "queued") return "Waiting for a worker…";
  if (record.stage === "diarizing") return "Labelling speakers…";
  return "Transcribing — segments appear as they are recognised";
}

function Running({ record, keptText }: { record: JobRecord; keptText: boolean }) {
  const now = useNow(15_000);
  const estimate = queueLine(record, now);
  const restart = restartNote(record);
  return (
    <div className="transcript__progress" aria-live="polite">
      {restart ? (
        <p className="transcript__restart" role="status">
          <strong>{restart}</strong>
          {keptText ? " The text recognised before stays until the new run reaches it." : null}
        </p>
      ) : null}
      <div className="transcript__progress-label">
        <span>{runningLabel(record)}</span>
        {record.status === "processing" ? <span className="numeric">{formatPercent(record.progress)}</span> : null}
      </div>
      <ProgressBar value={record.status === "queued" ? null : record.progress} label="Transcription progress" />
      {estimate ? <p className="transcript__eta small">{estimate.charAt(0).toUpperCase() + estimate.slice(1)}</p> : null}
    </div>
  );
}

export function TranscriptProgress({ record, keptText = false }: { record: JobRecord; keptText?: boolean }) {
  const { status } = record;
  if (status === "queued" || status === "processing") return <Running record={record} keptText={keptText} />;
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

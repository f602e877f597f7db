import { memo, useEffect, useRef } from "react";
import { formatBytes, formatDuration, formatPercent, languageName } from "../format";
import { Link } from "../router";
import { jobText, type JobState } from "../state/jobs";
import { uploadFraction, type UploadItem } from "../state/uploads";
import { isTerminal, STATUS_LABELS } from "../status";
import { queueLine } from "../queueText";
import { useNow } from "../views/useNow";
import { CloseIcon, WaveIcon } from "./Icons";
import { ProgressBar } from "./ProgressBar";
import { StatusBadge } from "./StatusBadge";

interface UploadRowProps {
  item: UploadItem;
  job: JobState | undefined;
  onCancel: (key: string) => void;
  onRetry: (key: string) => void;
  onDismiss: (key: string) => void;
}

function phaseLabel(item: UploadItem, job: JobState | undefined): string {
  switch (item.phase) {
    case "waiting":
      return "Waiting to upload";
    case "uploading":
      return "Uploading";
    case "rejected":
      return "Rejected";
    case "failed":
      return "Upload failed";
    case "aborted":
      return "Upload cancelled";
    case "interrupted":
      return "Upload interrupted";
    case "accepted":
      if (!job) return "Uploaded";
      if (job.deleted) return "Deleted";
      if (job.record.status === "queued") return "Queued for transcription";
      return STATUS_LABELS[job.record.status];
  }
}

function LiveText({ job, label }: { job: JobState; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const text = jobText(job);
  const running = !isTerminal(job.record.status);
  useEffect(() => {
    const element = box.current;
    if (element && running) element.scrollTop = element.scrollHeight;
  }, [text, running]);
  if (!text) return null;
  return (
    <div ref={box} className="upload-row__text" tabIndex={0} role="region" aria-label={label}>
      {text}
    </div>
  );
}

function UploadRowView({ item, job, onCancel, onRetry, onDismiss }: UploadRowProps) {
  const label = phaseLabel(item, job);
  const status = item.phase === "accepted" && !job?.deleted ? job?.record.status : undefined;
  const canDismiss = item.phase !== "uploading" && item.phase !== "waiting";
  const waitingOrRunning = job !== undefined && status !== undefined && !isTerminal(status);
  const now = useNow(waitingOrRunning ? 20_000 : null);
  const queue = waitingOrRunning ? queueLine(job.record, now) : null;
  return (
    <li
      className={`upload-row upload-row--${item.phase}`}
      data-key={item.key}
      data-phase={item.phase}
      data-status={status}
    >
      <div className="upload-row__head">
        <span className="upload-row__icon" aria-hidden="true">
          <WaveIcon size={18} />
        </span>
        <div className="upload-row__title">
          {item.jobId && !job?.deleted ? (
            <Link className="upload-row__name" to={`/transcriptions/${encodeURIComponent(item.jobId)}`}>
              {item.filename}
            </Link>
          ) : (
            <span className="upload-row__name">{item.filename}</span>
          )}
          <span className="upload-row__meta">
            {formatBytes(item.size)}
            {job?.record.duration_seconds ? ` · ${formatDuration(job.record.duration_seconds)}` : ""}
            {job?.record.language ? ` · ${languageName(job.record.language)}` : ""}
          </span>
        </div>
        <div className="upload-row__actions">
          {item.phase === "uploading" || item.phase === "waiting" ? (
            <button type="button" className="button button--quiet button--small" onClick={() => onCancel(item.key)}>
              Cancel<span className="visually-hidden"> upload of {item.filename}</span>
            </button>
          ) : null}
          {item.phase === "failed" || item.phase === "aborted" ? (
            <button type="button" className="button button--small" onClick={() => onRetry(item.key)}>
              Try again<span className="visually-hidden"> to upload {item.filename}</span>
            </button>
          ) : null}
          {canDismiss ? (
            <button
              type="button"
              className="icon-button"
              onClick={() => onDismiss(item.key)}
              aria-label={`Remove ${item.filename} from this list`}
              title="Remove from this list"
            >
              <CloseIcon size={16} />
            </button>
          ) : null}
        </div>
      </div>

      <div className="upload-row__status">
        {status ? <StatusBadge status={status} /> : null}
        <span className="upload-row__phase" aria-live="polite">
          {status ? <span className="visually-hidden">{`${item.filename}: ${label}`}</span> : label}
        </span>
        {item.phase === "uploading" ? (
          <span className="upload-row__numbers">
            {formatPercent(uploadFraction(item))} · {formatBytes(Math.min(item.loaded, item.total))} of{" "}
            {formatBytes(item.total)}
          </span>
        ) : null}
        {job && status === "processing" ? (
          <span className="upload-row__numbers">{formatPercent(job.record.progress)}</span>
        ) : null}
        {queue ? <span className="upload-row__queue">{queue}</span> : null}
      </div>

      {item.phase === "uploading" || item.phase === "waiting" ? (
        <ProgressBar
          tone="upload"
          value={item.phase === "waiting" ? 0 : uploadFraction(item)}
          label={`Upload progress of ${item.filename}`}
        />
      ) : null}

      {job && status && !isTerminal(status) ? (
        <ProgressBar
          tone="transcribe"
          value={status === "queued" ? null : job.record.progress}
          label={`Transcription progress of ${item.filename}`}
        />
      ) : null}

      {item.error ? (
        <p className="upload-row__error" role="alert">
          {item.error.message}
          {item.error.code && item.phase !== "interrupted" ? (
            <span className="upload-row__code"> ({item.error.code})</span>
          ) : null}
        </p>
      ) : null}

      {job && status === "failed" && job.record.error ? (
        <p className="upload-row__error" role="alert">
          {job.record.error.message}
          {job.record.error.code ? <span className="upload-row__code"> ({job.record.error.code})</span> : null}
        </p>
      ) : null}

      {job ? <LiveText job={job} label={`Transcript of ${item.filename}`} /> : null}
    </li>
  );
}

export const UploadRow = memo(UploadRowView);

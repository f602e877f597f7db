import { STATUS_LABELS, type JobStatus } from "../status";

export function StatusBadge({ status }: { status: JobStatus }) {
  return (
    <span className={`badge badge--${status}`} data-status={status}>
      <span className="badge__dot" aria-hidden="true" />
      {STATUS_LABELS[status]}
    </span>
  );
}

import type { Status } from "../api/types";
import { STATUS_LABELS } from "../status";

export function StatusBadge({ status }: { status: Status }) {
  return (
    <span className={`badge badge--${status}`} data-status={status}>
      <span className="badge__dot" aria-hidden="true" />
      {STATUS_LABELS[status]}
    </span>
  );
}

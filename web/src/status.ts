// What the web client knows about job statuses: the list and the terminal ones come from
// core/states.py through the generated ./api/states.generated.ts; only the labels live here.

import { JOB_STATUSES, TERMINAL_STATUSES, type JobStatus, type TerminalStatus } from "./api/states.generated";

export { JOB_STATUSES, TERMINAL_STATUSES };
export type { JobStatus, TerminalStatus };

export const STATUS_LABELS: Record<JobStatus, string> = {
  queued: "Queued",
  processing: "Transcribing",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

export function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === "string" && (JOB_STATUSES as readonly string[]).includes(value);
}

/** Whether a job in `status` has ended (a failed or cancelled one may still be retried). */
export function isTerminal(status: string): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

import type { Status } from "./api/types";

export const STATUS_LABELS: Record<Status, string> = {
  queued: "Queued",
  processing: "Transcribing",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

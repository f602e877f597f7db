// How a job's place in the queue and its estimates read: "3rd in line · starts in about 2 min".

import type { JobRecord } from "./state/jobs";

export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${n}${suffix}`;
}

/** "under a minute", "about 2 min", "about 1 h 10 min" from now until `iso`; null if unknown. */
export function waitUntil(iso: string | null | undefined, now: number): string | null {
  if (!iso) return null;
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return null;
  const minutes = Math.round((at - now) / 60_000);
  if (minutes < 1) return "under a minute";
  if (minutes < 60) return `about ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `about ${hours} h` : `about ${hours} h ${rest} min`;
}

/** The line under a waiting or running job; null when nothing is known. */
export function queueLine(record: Pick<JobRecord, "status" | "position" | "eta">, now: number): string | null {
  if (record.status === "queued") {
    const place = typeof record.position === "number" ? (record.position === 1 ? "Next in line" : `${ordinal(record.position)} in line`) : null;
    const starts = waitUntil(record.eta?.starts_at, now);
    const parts = [place, starts ? `starts in ${starts}` : null].filter(Boolean);
    return parts.length > 0 ? parts.join(" · ") : null;
  }
  if (record.status === "processing") {
    const ends = waitUntil(record.eta?.finishes_at, now);
    return ends ? `done in ${ends}` : null;
  }
  return null;
}

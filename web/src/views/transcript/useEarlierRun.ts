// The text of a run that stopped (its worker was lost, or it was retried), kept on screen until
// the new run has got as far: the server deletes a run's segments when the next one starts, so
// only this page still has them, and the transcript does not vanish while it is made again.

import { useRef } from "react";
import type { Segment } from "../../api/types";
import type { JobState } from "../../state/jobs";
import { isTerminal } from "../../status";

interface Held {
  id: string;
  runStartSeq: number;
  segments: readonly Segment[];
  earlier: readonly Segment[];
}

function reach(segments: readonly Segment[]): number {
  return segments.length > 0 ? segments[segments.length - 1]!.end : 0;
}

/** The earlier run's segments beyond what the running one has recognised (none once it passes them). */
export function useEarlierRun(job: JobState | undefined): readonly Segment[] {
  const held = useRef<Held | null>(null);
  if (!job) return [];
  const last = held.current?.id === job.id ? held.current : null;
  let earlier = last?.earlier ?? [];
  if (last && last.runStartSeq !== job.runStartSeq && reach(last.segments) > reach(earlier)) earlier = last.segments;
  if (isTerminal(job.record.status)) earlier = [];
  held.current = { id: job.id, runStartSeq: job.runStartSeq, segments: job.segments, earlier };
  const reached = reach(job.segments);
  return earlier.filter((segment) => segment.start >= reached);
}

/** Why the running job started over, if its worker was lost (null for a first run or a retry). */
export function restartNote(record: JobState["record"]): string | null {
  if (record.status !== "processing" && record.status !== "queued") return null;
  const attempt = record.attempts ?? 0;
  if (record.restart_reason !== "worker_lost" && attempt < 2) return null;
  const which = attempt >= 2 ? ` (attempt ${attempt})` : "";
  return `The worker running this transcription stopped, so it started again from the beginning${which}.`;
}

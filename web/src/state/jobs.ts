// Client-side state of transcription jobs, built from API snapshots and server-sent events.
//
// Pure functions only (no React, no I/O), so the ordering rules can be tested directly:
// - status and progress follow the event with the highest `seq`; events with
//   `seq <= lastSeq` (late, out of order, or replayed after a reconnect) change nothing but
//   may fill in segments;
// - segments are merged by `index`, so duplicates are harmless;
// - a terminal status (completed, failed, cancelled) never goes back to a running one, except
//   that a newer `queued` event after `failed`/`cancelled` is a retry and starts a fresh run
//   (the server's state machine allows exactly that transition).

import type { ErrorInfo, JobEvent, Segment, Status, Transcription } from "../api/types";
import { STATUSES } from "../api/types";

export interface JobState {
  id: string;
  status: Status;
  /** 0–1 */
  progress: number;
  /** Highest event `seq` applied; -1 before any. */
  lastSeq: number;
  /** Events older than this belong to an earlier run (before a retry); their segments are dropped. */
  runStartSeq: number;
  /** Ordered by `index`. */
  segments: readonly Segment[];
  text: string | null;
  error: ErrorInfo | null;
  language: string | null;
  durationSeconds: number | null;
  /** The latest record read from the API (its `segments` are kept in `segments`). */
  info: Omit<Transcription, "segments"> | null;
  /** True when `info` was read while the job was already in its terminal state. */
  settled: boolean;
}

export type JobsState = Readonly<Record<string, JobState>>;

export type JobsAction =
  | { type: "loaded"; transcription: Transcription }
  | { type: "retried"; transcription: Transcription }
  | { type: "event"; event: JobEvent }
  | { type: "removed"; id: string };

const TERMINAL: ReadonlySet<Status> = new Set<Status>(["completed", "failed", "cancelled"]);

export function isTerminal(status: Status): boolean {
  return TERMINAL.has(status);
}

export function isRunning(status: Status): boolean {
  return status === "queued" || status === "processing";
}

function isStatus(value: unknown): value is Status {
  return typeof value === "string" && (STATUSES as readonly string[]).includes(value);
}

function clampProgress(value: unknown, fallback: number): number {
  if (typeof value !== "number" || Number.isNaN(value)) return fallback;
  return Math.min(1, Math.max(0, value));
}

function sameSegment(a: Segment, b: Segment): boolean {
  return a.start === b.start && a.end === b.end && a.text === b.text && (a.words?.length ?? 0) === (b.words?.length ?? 0);
}

/** Merges `incoming` into `existing` by `index`; returns `existing` itself when nothing changed. */
export function mergeSegments(existing: readonly Segment[], incoming: readonly Segment[]): readonly Segment[] {
  if (incoming.length === 0) return existing;
  const byIndex = new Map<number, Segment>();
  for (const segment of existing) byIndex.set(segment.index, segment);
  let changed = false;
  for (const segment of incoming) {
    if (!segment || typeof segment.index !== "number") continue;
    const previous = byIndex.get(segment.index);
    if (!previous || !sameSegment(previous, segment)) {
      byIndex.set(segment.index, segment);
      changed = true;
    }
  }
  if (!changed) return existing;
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

export function emptyJob(id: string): JobState {
  return {
    id,
    status: "queued",
    progress: 0,
    lastSeq: -1,
    runStartSeq: -1,
    segments: [],
    text: null,
    error: null,
    language: null,
    durationSeconds: null,
    info: null,
    settled: false,
  };
}

function withoutSegments(transcription: Transcription): Omit<Transcription, "segments"> {
  const { segments: _segments, ...info } = transcription;
  return info;
}

function fromTranscription(transcription: Transcription): JobState {
  const status = isStatus(transcription.status) ? transcription.status : "queued";
  const lastSeq = typeof transcription.last_seq === "number" ? transcription.last_seq : -1;
  return {
    id: transcription.id,
    status,
    progress: status === "completed" ? 1 : clampProgress(transcription.progress, 0),
    lastSeq,
    runStartSeq: -1,
    segments: mergeSegments([], transcription.segments ?? []),
    text: transcription.text ?? null,
    error: transcription.error ?? null,
    language: transcription.language ?? null,
    durationSeconds: transcription.duration_seconds ?? null,
    info: withoutSegments(transcription),
    settled: isTerminal(status),
  };
}

const RUN_ORDER: Record<Status, number> = { queued: 0, processing: 1, completed: 2, failed: 2, cancelled: 2 };

/**
 * Whether an API record should replace the job's status and progress.
 * With `last_seq` the record is ordered like an event; without it, a terminal record always
 * wins over a running state, and a running record never replaces a terminal one.
 */
function snapshotIsNewer(job: JobState, transcription: Transcription): boolean {
  if (typeof transcription.last_seq === "number") return transcription.last_seq >= job.lastSeq;
  if (isTerminal(job.status)) return isTerminal(transcription.status);
  if (isTerminal(transcription.status)) return true;
  if (RUN_ORDER[transcription.status] !== RUN_ORDER[job.status]) {
    return RUN_ORDER[transcription.status] > RUN_ORDER[job.status];
  }
  return transcription.progress >= job.progress;
}

/** Applies a record read from the API (list item, detail, upload answer). */
export function applySnapshot(job: JobState | undefined, transcription: Transcription): JobState {
  if (!job) return fromTranscription(transcription);
  const segments = mergeSegments(job.segments, transcription.segments ?? []);
  const info = withoutSegments(transcription);
  if (!isStatus(transcription.status) || !snapshotIsNewer(job, transcription)) {
    return { ...job, segments, info: { ...info, status: job.status } };
  }
  const status = transcription.status;
  return {
    ...job,
    status,
    progress: status === "completed" ? 1 : clampProgress(transcription.progress, job.progress),
    lastSeq: Math.max(job.lastSeq, transcription.last_seq ?? -1),
    segments,
    text: transcription.text ?? job.text,
    error: status === "failed" ? (transcription.error ?? job.error) : (transcription.error ?? null),
    language: transcription.language ?? job.language,
    durationSeconds: transcription.duration_seconds ?? job.durationSeconds,
    info,
    settled: isTerminal(status),
  };
}

/** A run starts again (after a retry): earlier segments, text and error no longer apply. */
function startNewRun(job: JobState, runStartSeq: number): JobState {
  return {
    ...job,
    status: "queued",
    progress: 0,
    runStartSeq,
    segments: [],
    text: null,
    error: null,
    settled: false,
  };
}

/** The API answered a retry request: the job is queued again. */
export function applyRetry(job: JobState | undefined, transcription: Transcription): JobState {
  const base = job ?? fromTranscription(transcription);
  const seq = typeof transcription.last_seq === "number" ? transcription.last_seq : base.lastSeq + 1;
  const fresh = startNewRun(base, seq);
  return {
    ...fresh,
    status: isStatus(transcription.status) && !isTerminal(transcription.status) ? transcription.status : "queued",
    lastSeq: Math.max(base.lastSeq, transcription.last_seq ?? -1),
    segments: mergeSegments([], transcription.segments ?? []),
    info: withoutSegments(transcription),
  };
}

function eventSegments(event: JobEvent): Segment[] {
  const list: Segment[] = [];
  if (Array.isArray(event.data.segments)) list.push(...event.data.segments);
  if (event.data.segment) list.push(event.data.segment);
  return list;
}

function eventStatus(event: JobEvent): Status {
  if (isStatus(event.data.status)) return event.data.status;
  return event.type === "progress" ? "processing" : event.type;
}

/** Applies one server-sent event. */
export function applyEvent(job: JobState | undefined, event: JobEvent): JobState {
  const data = event.data;
  const seq = typeof data.seq === "number" ? data.seq : -1;
  const status = eventStatus(event);
  let base = job ?? emptyJob(data.id);

  const isRetry =
    job !== undefined && seq > job.lastSeq && status === "queued" && (job.status === "failed" || job.status === "cancelled");
  if (isRetry) base = startNewRun(base, seq);

  const segments = seq >= base.runStartSeq ? mergeSegments(base.segments, eventSegments(event)) : base.segments;

  const stale = job !== undefined && seq <= base.lastSeq;
  const afterEnd = isTerminal(base.status) && !isRetry;
  if (stale || afterEnd) {
    return segments === base.segments ? base : { ...base, segments };
  }

  return {
    ...base,
    status,
    progress: status === "completed" ? 1 : clampProgress(data.progress, base.progress),
    lastSeq: seq,
    segments,
    text: data.text ?? base.text,
    error: status === "failed" ? (data.error ?? base.error) : null,
    language: data.language ?? base.language,
    durationSeconds: data.duration_seconds ?? base.durationSeconds,
    settled: false,
  };
}

export function jobsReducer(state: JobsState, action: JobsAction): JobsState {
  switch (action.type) {
    case "loaded": {
      const id = action.transcription.id;
      return { ...state, [id]: applySnapshot(state[id], action.transcription) };
    }
    case "retried": {
      const id = action.transcription.id;
      return { ...state, [id]: applyRetry(state[id], action.transcription) };
    }
    case "event": {
      const id = action.event.data.id;
      if (typeof id !== "string" || !id) return state;
      const current = state[id];
      const next = applyEvent(current, action.event);
      return next === current ? state : { ...state, [id]: next };
    }
    case "removed": {
      if (!(action.id in state)) return state;
      const { [action.id]: _removed, ...rest } = state;
      return rest;
    }
  }
}

/** The transcript text so far: the final text once known, else the segments joined. */
export function transcriptText(job: Pick<JobState, "text" | "segments">): string {
  if (job.text) return job.text.trim();
  return job.segments
    .map((segment) => segment.text.trim())
    .filter(Boolean)
    .join(" ");
}

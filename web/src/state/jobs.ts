// Client-side state of transcription jobs, built from API records and server-sent events.
//
// Pure functions only (no React, no I/O), so the ordering rules can be tested directly:
// - Status and progress follow the highest `seq` (per job, as the server numbers them).
//   An event with `seq <= lastSeq` (late, out of order, or replayed after a reconnect) changes
//   nothing but may fill in segments.
// - Segments are merged by `index`, so duplicates are harmless.
// - A terminal status never goes back to a running one because of a late event: `completed`
//   is final; after `failed` or `cancelled` only a newer `queued` event (a retry, the one
//   transition the server allows out of those states) starts the job again.
// - A new run (retry, requeue after a lost worker, or a new `attempt`) starts with no segments,
//   as the server deletes the previous run's segments; late segments of the old run are dropped.

import type { ErrorInfo, JobEvent, Segment, Status, Transcription } from "../api/types";
import { STATUSES } from "../api/types";

export interface JobState {
  id: string;
  status: Status;
  /** 0–1 */
  progress: number;
  /** Highest `seq` applied; -1 before any. */
  lastSeq: number;
  /** Segments carried by events older than this belong to an earlier run and are dropped. */
  runStartSeq: number;
  /** Which attempt is (or was last) running, when known. */
  attempt: number | null;
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
  /** The server announced that the job was deleted. */
  deleted: boolean;
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

function isStatus(value: unknown): value is Status {
  return typeof value === "string" && (STATUSES as readonly string[]).includes(value);
}

function clampProgress(value: unknown, fallback: number): number {
  if (typeof value !== "number" || Number.isNaN(value)) return fallback;
  return Math.min(1, Math.max(0, value));
}

function sameSegment(a: Segment, b: Segment): boolean {
  return (
    a.start === b.start &&
    a.end === b.end &&
    a.text === b.text &&
    (a.words?.length ?? 0) === (b.words?.length ?? 0)
  );
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
    attempt: null,
    segments: [],
    text: null,
    error: null,
    language: null,
    durationSeconds: null,
    info: null,
    settled: false,
    deleted: false,
  };
}

function withoutSegments(transcription: Transcription): Omit<Transcription, "segments"> {
  const { segments: _segments, ...info } = transcription;
  return info;
}

function recordSeq(transcription: Transcription): number | null {
  return typeof transcription.seq === "number" ? transcription.seq : null;
}

function recordAttempt(transcription: Transcription): number | null {
  return typeof transcription.attempts === "number" ? transcription.attempts : null;
}

/** Whether moving from `job` to (`status`, `attempt`) means the server started the job over. */
function startsNewRun(job: JobState, status: Status, attempt: number | null | undefined): boolean {
  if (job.status === "completed") return false;
  if (status === "queued") return job.status !== "queued";
  if (status === "processing") {
    if (job.status === "failed" || job.status === "cancelled") return true;
    return typeof attempt === "number" && job.attempt !== null && attempt !== job.attempt;
  }
  return false;
}

function newRun(job: JobState, runStartSeq: number): JobState {
  return { ...job, progress: 0, runStartSeq, segments: [], text: null, error: null, settled: false };
}

function fromTranscription(transcription: Transcription): JobState {
  const status = isStatus(transcription.status) ? transcription.status : "queued";
  return {
    ...emptyJob(transcription.id),
    status,
    progress: status === "completed" ? 1 : clampProgress(transcription.progress, 0),
    lastSeq: recordSeq(transcription) ?? -1,
    attempt: recordAttempt(transcription),
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
 * Whether an API record describes a later state than the one held.
 * With `seq` it is ordered like an event; without, a terminal record wins over a running
 * state and a running record never replaces a terminal one.
 */
function recordIsNewer(job: JobState, transcription: Transcription): boolean {
  if (job.status === "completed" && transcription.status !== "completed") return false;
  const seq = recordSeq(transcription);
  if (seq !== null) return seq >= job.lastSeq;
  if (isTerminal(job.status)) return isTerminal(transcription.status);
  if (isTerminal(transcription.status)) return true;
  if (RUN_ORDER[transcription.status] !== RUN_ORDER[job.status]) {
    return RUN_ORDER[transcription.status] > RUN_ORDER[job.status];
  }
  return transcription.progress >= job.progress;
}

/** Applies a record read from the API (a list item, a detail, an upload answer). */
export function applySnapshot(job: JobState | undefined, transcription: Transcription): JobState {
  if (!job) return fromTranscription(transcription);
  const info = withoutSegments(transcription);
  if (!isStatus(transcription.status) || !recordIsNewer(job, transcription)) {
    return { ...job, segments: mergeSegments(job.segments, transcription.segments ?? []), info };
  }
  const status = transcription.status;
  const attempt = recordAttempt(transcription);
  const base = startsNewRun(job, status, attempt) ? newRun(job, job.lastSeq + 1) : job;
  return {
    ...base,
    status,
    progress: status === "completed" ? 1 : clampProgress(transcription.progress, base.progress),
    lastSeq: Math.max(base.lastSeq, recordSeq(transcription) ?? -1),
    attempt: attempt ?? base.attempt,
    segments: mergeSegments(base.segments, transcription.segments ?? []),
    text: transcription.text ?? base.text,
    error: status === "failed" ? (transcription.error ?? base.error) : null,
    language: transcription.language ?? base.language,
    durationSeconds: transcription.duration_seconds ?? base.durationSeconds,
    info,
    settled: isTerminal(status),
  };
}

/** The API answered a retry request: the job is queued again, from scratch. */
export function applyRetry(job: JobState | undefined, transcription: Transcription): JobState {
  const base = job ?? fromTranscription(transcription);
  const fresh = newRun(base, base.lastSeq + 1);
  return {
    ...fresh,
    status: isStatus(transcription.status) && !isTerminal(transcription.status) ? transcription.status : "queued",
    lastSeq: Math.max(base.lastSeq, recordSeq(transcription) ?? -1),
    attempt: recordAttempt(transcription) ?? base.attempt,
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

function fillIn(job: JobState, segments: readonly Segment[], data: JobEvent["data"]): JobState {
  const text = job.text ?? data.text ?? null;
  const language = job.language ?? data.language ?? null;
  const durationSeconds = job.durationSeconds ?? data.duration_seconds ?? null;
  const error = job.status === "failed" ? (job.error ?? data.error ?? null) : job.error;
  if (
    segments === job.segments &&
    text === job.text &&
    language === job.language &&
    durationSeconds === job.durationSeconds &&
    error === job.error
  ) {
    return job;
  }
  return { ...job, segments, text, language, durationSeconds, error };
}

/** Applies one server-sent event. */
export function applyEvent(job: JobState | undefined, event: JobEvent): JobState {
  const data = event.data;
  const seq = typeof data.seq === "number" ? data.seq : -1;
  const status = eventStatus(event);
  const current = job ?? emptyJob(data.id);
  const newer = job === undefined || seq > current.lastSeq;

  if (data.deleted) {
    return newer || !current.deleted
      ? { ...current, deleted: true, lastSeq: Math.max(current.lastSeq, seq), status: isTerminal(current.status) ? current.status : "cancelled" }
      : current;
  }

  // After failed/cancelled only a retry (a newer `queued`) moves on; `completed` is final.
  const ended = isTerminal(current.status) && !(newer && status === "queued" && current.status !== "completed");
  const restart = newer && !ended && job !== undefined && startsNewRun(current, status, data.attempt);
  const base = restart ? newRun(current, seq) : current;

  const segments = seq >= base.runStartSeq ? mergeSegments(base.segments, eventSegments(event)) : base.segments;

  if (!newer || ended) {
    // The same state again (a catch-up sends segments and state under one seq) may complete
    // what the first copy lacked.
    if (seq === base.lastSeq && status === base.status) return fillIn(base, segments, data);
    return segments === base.segments ? base : { ...base, segments };
  }

  return {
    ...base,
    status,
    progress: status === "completed" ? 1 : clampProgress(data.progress, base.progress),
    lastSeq: seq,
    attempt: typeof data.attempt === "number" ? data.attempt : base.attempt,
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
      const id = action.event.data?.id;
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

/** The transcript so far: the final text once known, else the segments joined. */
export function transcriptText(job: Pick<JobState, "text" | "segments">): string {
  if (job.text) return job.text.trim();
  return job.segments
    .map((segment) => segment.text.trim())
    .filter(Boolean)
    .join(" ");
}

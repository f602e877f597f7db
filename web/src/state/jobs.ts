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
//
// Each job keeps its record once (`record`, the API's fields); events update the fields they
// carry in place. Only the ordering state (`lastSeq`, `runStartSeq`, …) sits beside it.

import type { JobEvent, JobEventData, JobStatus, Segment, Transcription } from "../api/types";
import { isJobStatus, isTerminal } from "../status";
import { mergeSegments, transcriptText } from "./segments";

/** The record's fields that events carry too, so they change while a job runs. */
export type LiveFields = Pick<Transcription, "progress" | "text" | "error" | "language" | "duration_seconds"> & {
  status: JobStatus;
  /** Which attempt is (or was last) running; null until known. */
  attempts: number | null;
};

/**
 * What is known of a job: the latest API record with every newer event's fields applied.
 * A job known only from events has the live fields alone. Its `id`, `seq` and `segments` are
 * kept beside it in `JobState`.
 */
export type JobRecord = LiveFields &
  Partial<Omit<Transcription, keyof LiveFields | "id" | "seq" | "segments">> & {
    /** The stage a running job's latest event named (`diarizing`), if any. */
    stage?: string | null;
  };

export interface JobState {
  id: string;
  record: JobRecord;
  /** Highest `seq` applied; -1 before any. */
  lastSeq: number;
  /** Segments carried by events older than this belong to an earlier run and are dropped. */
  runStartSeq: number;
  /** Ordered by `index`. */
  segments: readonly Segment[];
  /** True when the record was read while the job was already in its terminal state. */
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

function clampProgress(value: unknown, fallback: number): number {
  if (typeof value !== "number" || Number.isNaN(value)) return fallback;
  return Math.min(1, Math.max(0, value));
}

export function emptyJob(id: string): JobState {
  return {
    id,
    record: { status: "queued", progress: 0, attempts: null, text: null, error: null, language: null, duration_seconds: null },
    lastSeq: -1,
    runStartSeq: -1,
    segments: [],
    settled: false,
    deleted: false,
  };
}

function liveFieldsOf(record: JobRecord): LiveFields {
  const { status, progress, attempts, text, error, language, duration_seconds } = record;
  return { status, progress, attempts, text, error, language, duration_seconds };
}

/** The record's own fields, as the API sent them (status checked, `id`, `seq`, `segments` set apart). */
function recordOf(transcription: Transcription): JobRecord {
  const { id: _id, seq: _seq, segments: _segments, ...fields } = transcription;
  const status = isJobStatus(fields.status) ? fields.status : "queued";
  return {
    ...fields,
    status,
    progress: status === "completed" ? 1 : clampProgress(fields.progress, 0),
    attempts: recordAttempts(transcription),
    text: fields.text ?? null,
    error: fields.error ?? null,
    language: fields.language ?? null,
    duration_seconds: fields.duration_seconds ?? null,
  };
}

function recordSeq(transcription: Transcription): number | null {
  return typeof transcription.seq === "number" ? transcription.seq : null;
}

function recordAttempts(transcription: Transcription): number | null {
  return typeof transcription.attempts === "number" ? transcription.attempts : null;
}

/** Whether moving from `job` to (`status`, `attempt`) means the server started the job over. */
function startsNewRun(job: JobState, status: JobStatus, attempt: number | null | undefined): boolean {
  const current = job.record.status;
  if (current === "completed") return false;
  if (status === "queued") return current !== "queued";
  if (status === "processing") {
    if (current === "failed" || current === "cancelled") return true;
    return typeof attempt === "number" && job.record.attempts !== null && attempt !== job.record.attempts;
  }
  return false;
}

function newRun(job: JobState, runStartSeq: number): JobState {
  return {
    ...job,
    record: { ...job.record, progress: 0, text: null, error: null },
    runStartSeq,
    segments: [],
    settled: false,
  };
}

function fromTranscription(transcription: Transcription): JobState {
  const record = recordOf(transcription);
  return {
    ...emptyJob(transcription.id),
    record,
    lastSeq: recordSeq(transcription) ?? -1,
    segments: mergeSegments([], transcription.segments ?? []),
    settled: isTerminal(record.status),
  };
}

const RUN_ORDER: Record<JobStatus, number> = { queued: 0, processing: 1, completed: 2, failed: 2, cancelled: 2 };

/**
 * Whether an API record describes a later state than the one held.
 * With `seq` it is ordered like an event; without, a terminal record wins over a running
 * state and a running record never replaces a terminal one.
 */
function recordIsNewer(job: JobState, status: JobStatus, transcription: Transcription): boolean {
  const current = job.record.status;
  if (current === "completed" && status !== "completed") return false;
  const seq = recordSeq(transcription);
  if (seq !== null) return seq >= job.lastSeq;
  if (isTerminal(current)) return isTerminal(status);
  if (isTerminal(status)) return true;
  if (RUN_ORDER[status] !== RUN_ORDER[current]) return RUN_ORDER[status] > RUN_ORDER[current];
  return transcription.progress >= job.record.progress;
}

/** Applies a record read from the API (a list item, a detail, an upload answer). */
export function applySnapshot(job: JobState | undefined, transcription: Transcription): JobState {
  if (!job) return fromTranscription(transcription);
  const read = recordOf(transcription);
  if (!isJobStatus(transcription.status) || !recordIsNewer(job, transcription.status, transcription)) {
    // An older record still brings the fields events never carry (file name, options, …).
    return {
      ...job,
      record: { ...read, ...liveFieldsOf(job.record) },
      segments: mergeSegments(job.segments, transcription.segments ?? []),
    };
  }
  const status = transcription.status;
  const base = startsNewRun(job, status, read.attempts) ? newRun(job, job.lastSeq + 1) : job;
  const previous = base.record;
  return {
    ...base,
    record: {
      ...read,
      progress: status === "completed" ? 1 : clampProgress(transcription.progress, previous.progress),
      attempts: read.attempts ?? previous.attempts,
      text: read.text ?? previous.text,
      error: status === "failed" ? (read.error ?? previous.error) : null,
      language: read.language ?? previous.language,
      duration_seconds: read.duration_seconds ?? previous.duration_seconds,
    },
    lastSeq: Math.max(base.lastSeq, recordSeq(transcription) ?? -1),
    segments: finalSegments(status, transcription) ?? mergeSegments(base.segments, transcription.segments ?? []),
    settled: isTerminal(status),
  };
}

/**
 * A completed record's segments are the whole transcript: they replace what events brought.
 * A long recording split into pieces numbers its live segments by piece (piece k from
 * k × 1,000,000) and renumbers them 0..n-1 when stitched, so merging would keep both.
 */
function finalSegments(status: JobStatus, transcription: Transcription): readonly Segment[] | null {
  const segments = transcription.segments;
  if (status !== "completed" || !Array.isArray(segments) || segments.length === 0) return null;
  return mergeSegments([], segments);
}

/** The API answered a retry request: the job is queued again, from scratch. */
export function applyRetry(job: JobState | undefined, transcription: Transcription): JobState {
  const base = job ?? fromTranscription(transcription);
  const fresh = newRun(base, base.lastSeq + 1);
  const read = recordOf(transcription);
  return {
    ...fresh,
    record: {
      ...read,
      status: isTerminal(read.status) ? "queued" : read.status,
      progress: fresh.record.progress,
      attempts: read.attempts ?? base.record.attempts,
      text: fresh.record.text,
      error: fresh.record.error,
      language: fresh.record.language,
      duration_seconds: fresh.record.duration_seconds,
    },
    lastSeq: Math.max(base.lastSeq, recordSeq(transcription) ?? -1),
    segments: mergeSegments([], transcription.segments ?? []),
  };
}

/** The type of a field across the members of a union that have it. */
type FieldOf<U, K extends PropertyKey> = U extends unknown ? (K extends keyof U ? U[K] : never) : never;

/** A field only some event types carry (`text` on `completed`, `attempt` on `processing`, …). */
function eventField<K extends string>(data: JobEventData, key: K): FieldOf<JobEventData, K> | undefined {
  return key in data ? (data as unknown as Record<K, FieldOf<JobEventData, K>>)[key] : undefined;
}

function eventSegments(data: JobEventData): Segment[] {
  const list: Segment[] = [];
  const batch = eventField(data, "segments");
  if (Array.isArray(batch)) list.push(...batch);
  const single = eventField(data, "segment");
  if (single) list.push(single);
  return list;
}

function eventStatus(event: JobEvent): JobStatus {
  if (isJobStatus(event.data.status)) return event.data.status;
  return event.type === "progress" ? "processing" : event.type;
}

/** The same state again (a catch-up sends segments and state under one seq) may complete what the first copy lacked. */
function fillIn(job: JobState, segments: readonly Segment[], data: JobEventData): JobState {
  const record = job.record;
  const text = record.text ?? eventField(data, "text") ?? null;
  const language = record.language ?? eventField(data, "language") ?? null;
  const duration = record.duration_seconds ?? eventField(data, "duration_seconds") ?? null;
  const error = record.status === "failed" ? (record.error ?? eventField(data, "error") ?? null) : record.error;
  if (
    segments === job.segments &&
    text === record.text &&
    language === record.language &&
    duration === record.duration_seconds &&
    error === record.error
  ) {
    return job;
  }
  return { ...job, segments, record: { ...record, text, language, duration_seconds: duration, error } };
}

/** Applies one server-sent event. */
export function applyEvent(job: JobState | undefined, event: JobEvent): JobState {
  const data = event.data;
  const seq = typeof data.seq === "number" ? data.seq : -1;
  const status = eventStatus(event);
  const current = job ?? emptyJob(data.id);
  const newer = job === undefined || seq > current.lastSeq;

  if (eventField(data, "deleted")) {
    if (!newer && current.deleted) return current;
    const ended = isTerminal(current.record.status) ? current.record.status : "cancelled";
    return { ...current, deleted: true, lastSeq: Math.max(current.lastSeq, seq), record: { ...current.record, status: ended } };
  }

  // After failed/cancelled only a retry (a newer `queued`) moves on; `completed` is final.
  const held = current.record.status;
  const ended = isTerminal(held) && !(newer && status === "queued" && held !== "completed");
  const attempt = eventField(data, "attempt");
  const restart = newer && !ended && job !== undefined && startsNewRun(current, status, attempt);
  const base = restart ? newRun(current, seq) : current;

  const segments = seq >= base.runStartSeq ? mergeSegments(base.segments, eventSegments(data)) : base.segments;

  if (!newer || ended) {
    if (seq === base.lastSeq && status === base.record.status) return fillIn(base, segments, data);
    return segments === base.segments ? base : { ...base, segments };
  }

  const previous = base.record;
  return {
    ...base,
    record: {
      ...previous,
      status,
      progress: status === "completed" ? 1 : clampProgress(data.progress, previous.progress),
      attempts: typeof attempt === "number" ? attempt : previous.attempts,
      text: eventField(data, "text") ?? previous.text,
      error: status === "failed" ? (eventField(data, "error") ?? previous.error) : null,
      language: eventField(data, "language") ?? previous.language,
      duration_seconds: eventField(data, "duration_seconds") ?? previous.duration_seconds,
      stage: eventField(data, "stage") ?? null,
      // Queue place and estimates: `queued` events carry both, `progress` events the end.
      position: status === "queued" ? (eventField(data, "position") ?? null) : null,
      eta: eventField(data, "eta") ?? (status === previous.status ? previous.eta : null),
    },
    lastSeq: seq,
    segments,
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

/** The job's transcript so far: the final text once known, else its segments joined. */
export function jobText(job: Pick<JobState, "record" | "segments">): string {
  return transcriptText(job.record.text, job.segments);
}

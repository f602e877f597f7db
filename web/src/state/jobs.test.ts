import { describe, expect, it } from "vitest";
import type { EventType, JobEvent, JobEventData, Segment, Transcription } from "../api/types";
import { receivedEvent, transcription, type EventDataInput } from "../test/fakes";
import { applyEvent, applySnapshot, jobsReducer, type JobState, type JobsAction, type JobsState } from "./jobs";
import { mergeSegments, transcriptText } from "./segments";

const ID = "job-1";

function segment(index: number, text = `part ${index}`): Segment {
  return { index, start: index * 2, end: index * 2 + 2, text };
}

function event(type: EventType, seq: number, extra: Partial<EventDataInput> = {}): JobEvent {
  const status = type === "progress" ? "processing" : type;
  return receivedEvent(type, { id: ID, seq, status, progress: 0, ...extra });
}

function progress(seq: number, index: number, fraction: number): JobEvent {
  return event("progress", seq, { progress: fraction, segment: segment(index) });
}

function run(events: JobEvent[], start?: JobState): JobState {
  let job = start;
  for (const item of events) job = applyEvent(job, item);
  if (!job) throw new Error("no events");
  return job;
}

describe("applyEvent", () => {
  it("follows a job from queued to completed", () => {
    const job = run([
      event("queued", 1),
      event("processing", 2, { attempt: 1, duration_seconds: 6 }),
      progress(3, 0, 0.33),
      progress(4, 1, 0.66),
      progress(5, 2, 0.99),
      event("completed", 6, { progress: 1, text: "part 0 part 1 part 2", language: "en" }),
    ]);
    expect(job.record.status).toBe("completed");
    expect(job.record.progress).toBe(1);
    expect(job.lastSeq).toBe(6);
    expect(job.segments.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(job.record.text).toBe("part 0 part 1 part 2");
    expect(job.record.language).toBe("en");
    expect(job.record.duration_seconds).toBe(6);
  });

  it("keeps the queue place and estimates that queued and progress events carry", () => {
    const eta = { starts_at: "2026-01-01T10:02:00Z", finishes_at: "2026-01-01T10:05:00Z" };
    const waiting = run([event("queued", 1, { position: 3, eta }), event("queued", 2, { position: 2, eta })]);
    expect(waiting.record).toMatchObject({ position: 2, eta });
    const running = run([event("processing", 3), event("progress", 4, { eta: { finishes_at: "2026-01-01T10:06:00Z" } })], waiting);
    expect(running.record.position).toBeNull();
    expect(running.record.eta).toEqual({ finishes_at: "2026-01-01T10:06:00Z" });
  });

  it("orders by seq when events arrive out of order, keeping every segment", () => {
    const job = run([event("processing", 2, { attempt: 1 }), progress(4, 1, 0.5), progress(3, 0, 0.25)]);
    expect(job.record.progress).toBe(0.5);
    expect(job.lastSeq).toBe(4);
    expect(job.segments.map((s) => s.index)).toEqual([0, 1]);
  });

  it("ignores duplicates replayed after a reconnect (Last-Event-ID)", () => {
    const before = run([event("processing", 2, { attempt: 1 }), progress(3, 0, 0.2), progress(4, 1, 0.4)]);
    const after = run([progress(3, 0, 0.2), progress(4, 1, 0.4)], before);
    expect(after).toBe(before);
    const next = applyEvent(after, progress(5, 2, 0.6));
    expect(next.record.progress).toBe(0.6);
    expect(next.segments).toHaveLength(3);
  });

  it("accepts the connect snapshot (current status, stored segments) without double counting", () => {
    const live = run([event("processing", 2, { attempt: 1 }), progress(3, 0, 0.3), progress(4, 1, 0.6)]);
    const snapshot = run(
      [event("processing", 4, { attempt: 1, progress: 0.6 }), event("progress", 4, { progress: 0.6, segments: [segment(0), segment(1)], segment: segment(1) })],
      live,
    );
    expect(snapshot).toBe(live);
  });

  it("takes a catch-up: stored segments, then the state, under one seq", () => {
    const live = run([event("processing", 2, { attempt: 1 }), progress(3, 0, 0.3)]);
    const caughtUp = run(
      [
        receivedEvent("progress", { id: ID, seq: 6, status: "completed", progress: 1, segments: [segment(1), segment(2)], segment: segment(2) }),
        event("completed", 6, { progress: 1, text: "part 0 part 1 part 2", language: "en" }),
      ],
      live,
    );
    expect(caughtUp.record.status).toBe("completed");
    expect(caughtUp.segments.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(caughtUp.record.text).toBe("part 0 part 1 part 2");
    expect(caughtUp.record.language).toBe("en");
  });

  it("merges a batch of segments carried by one event", () => {
    const job = run([
      event("processing", 2, { attempt: 1 }),
      event("progress", 3, { progress: 0.5, segments: [segment(0), segment(1), segment(2)], segment: segment(2) }),
    ]);
    expect(job.segments.map((s) => s.index)).toEqual([0, 1, 2]);
  });

  it("never regresses a terminal status when a late progress event arrives", () => {
    const done = run([event("processing", 2, { attempt: 1 }), progress(3, 0, 0.5), event("completed", 5, { progress: 1, text: "done" })]);
    const late = applyEvent(done, progress(4, 1, 0.8));
    expect(late.record.status).toBe("completed");
    expect(late.record.progress).toBe(1);
    expect(late.record.text).toBe("done");
    // even a (buggy) newer running event does not reopen a completed job
    const newer = applyEvent(late, progress(9, 2, 0.9));
    expect(newer.record.status).toBe("completed");
    expect(newer.record.progress).toBe(1);
  });

  it("keeps failed and cancelled jobs terminal against late running events", () => {
    const failed = run([
      event("processing", 2, { attempt: 1 }),
      event("failed", 4, { error: { code: "decode_error", message: "Cannot decode" } }),
    ]);
    expect(applyEvent(failed, progress(3, 0, 0.4)).record.status).toBe("failed");
    expect(applyEvent(failed, event("processing", 5, { attempt: 1 })).record.status).toBe("failed");
    expect(failed.record.error).toEqual({ code: "decode_error", message: "Cannot decode" });

    const cancelled = run([event("processing", 2, { attempt: 1 }), event("cancelled", 3)]);
    expect(applyEvent(cancelled, progress(4, 0, 0.4)).record.status).toBe("cancelled");
  });

  it("starts a fresh run when a newer queued event follows a failure (retry)", () => {
    const failed = run([
      event("processing", 2, { attempt: 1 }),
      progress(3, 0, 0.5),
      event("failed", 4, { error: { code: "x", message: "boom" } }),
    ]);
    const retried = applyEvent(failed, event("queued", 5));
    expect(retried.record.status).toBe("queued");
    expect(retried.segments).toEqual([]);
    expect(retried.record.error).toBeNull();
    expect(retried.record.progress).toBe(0);
    // a late segment of the failed run is not mixed into the new one
    expect(applyEvent(retried, progress(3, 0, 0.5)).segments).toEqual([]);
    const again = run([event("processing", 6, { attempt: 1 }), progress(7, 0, 0.5)], retried);
    expect(again.record.status).toBe("processing");
    expect(again.segments).toHaveLength(1);
  });

  it("drops the old run's segments when a worker was lost and another attempt starts", () => {
    const first = run([event("processing", 2, { attempt: 1 }), progress(3, 0, 0.3), progress(4, 1, 0.6)]);
    const second = applyEvent(first, event("processing", 5, { attempt: 2 }));
    expect(second.segments).toEqual([]);
    expect(second.record.progress).toBe(0);
    expect(second.record.attempts).toBe(2);
    const requeued = applyEvent(first, event("queued", 5));
    expect(requeued.record.status).toBe("queued");
    expect(requeued.segments).toEqual([]);
  });

  it("creates a job from its first event even when that is terminal", () => {
    const job = applyEvent(undefined, event("completed", 7, { progress: 1, text: "hello" }));
    expect(job.record.status).toBe("completed");
    expect(job.record.text).toBe("hello");
  });

  it("uses the event type when the status field is missing", () => {
    const data = { id: ID, seq: 3, progress: 0.5, segment: segment(0) } as unknown as JobEventData;
    const job = applyEvent(undefined, { type: "progress", data });
    expect(job.record.status).toBe("processing");
  });

  it("marks a job deleted", () => {
    const job = run([event("processing", 2, { attempt: 1 }), event("cancelled", 3, { deleted: true })]);
    expect(job.deleted).toBe(true);
    expect(job.record.status).toBe("cancelled");
  });
});

describe("applySnapshot", () => {
  it("builds a job from an API record, segments included", () => {
    const job = applySnapshot(
      undefined,
      transcription({ id: ID, status: "processing", progress: 0.5, seq: 4, attempts: 1, segments: [segment(1), segment(0)] }),
    );
    expect(job.record.status).toBe("processing");
    expect(job.lastSeq).toBe(4);
    expect(job.segments.map((s) => s.index)).toEqual([0, 1]);
    expect(job.record.filename).toBe(`${ID}.wav`);
  });

  it("takes a completed record's segments as the whole transcript", () => {
    // A split recording's live segments are numbered by piece, then renumbered when stitched.
    const live = run([event("processing", 2, { attempt: 1 }), progress(3, 1_000_000, 0.5), progress(4, 0, 0.9)]);
    const done = applyEvent(live, event("completed", 5, { progress: 1, text: "part 0 part 1" }));
    expect(done.segments.map((s) => s.index)).toEqual([0, 1_000_000]);
    const read = applySnapshot(
      done,
      transcription({ id: ID, status: "completed", progress: 1, seq: 5, segments: [segment(0), segment(1)] }),
    );
    expect(read.segments.map((s) => s.index)).toEqual([0, 1]);
  });

  it("does not let an older record undo newer events", () => {
    const live = run([event("processing", 2, { attempt: 1 }), progress(3, 0, 0.3), event("completed", 4, { progress: 1 })]);
    const stale = applySnapshot(live, transcription({ id: ID, status: "processing", progress: 0.3, seq: 3 }));
    expect(stale.record.status).toBe("completed");
    expect(stale.record.filename).toBe(`${ID}.wav`);
  });

  it("without seq, keeps a terminal state and accepts a terminal record", () => {
    // Records carry `seq`; one without (an older server) is still ordered sensibly.
    const done = run([event("completed", 4, { progress: 1 })]);
    const { seq: _seq, ...base } = transcription({ id: ID, status: "processing" });
    expect(applySnapshot(done, base as Transcription).record.status).toBe("completed");
    const running = run([event("processing", 2, { attempt: 1 })]);
    const { seq: _s, ...final } = transcription({ id: ID, status: "completed", progress: 1, text: "hi" });
    const settled = applySnapshot(running, final as Transcription);
    expect(settled.record.status).toBe("completed");
    expect(settled.settled).toBe(true);
    expect(settled.record.text).toBe("hi");
  });

  it("takes a newer record after a retry elsewhere", () => {
    const failed = run([event("processing", 2, { attempt: 1 }), progress(3, 0, 0.3), event("failed", 4)]);
    const queued = applySnapshot(failed, transcription({ id: ID, status: "queued", seq: 5, attempts: 0 }));
    expect(queued.record.status).toBe("queued");
    expect(queued.segments).toEqual([]);
  });
});

describe("jobsReducer", () => {
  it("keeps the same state object when an event changes nothing", () => {
    const state: JobsState = jobsReducer({}, { type: "event", event: event("processing", 2, { attempt: 1 }) });
    expect(jobsReducer(state, { type: "event", event: event("processing", 2, { attempt: 1 }) })).toBe(state);
  });

  it("keeps jobs apart", () => {
    const other: JobEvent = receivedEvent("queued", { id: "job-2", seq: 1, status: "queued", progress: 0 });
    const actions: JobsAction[] = [
      { type: "event", event: event("processing", 2, { attempt: 1 }) },
      { type: "event", event: other },
      { type: "event", event: progress(3, 0, 0.5) },
    ];
    const state = actions.reduce(jobsReducer, {} as JobsState);
    expect(state[ID]?.record.status).toBe("processing");
    expect(state["job-2"]?.record.status).toBe("queued");
  });

  it("resets a job on an explicit retry and removes deleted jobs", () => {
    let state: JobsState = {};
    state = jobsReducer(state, { type: "loaded", transcription: transcription({ id: ID, status: "failed", seq: 4, error: { code: "x", message: "y" } }) });
    state = jobsReducer(state, { type: "retried", transcription: transcription({ id: ID, status: "queued", seq: 5 }) });
    expect(state[ID]?.record.status).toBe("queued");
    expect(state[ID]?.record.error).toBeNull();
    state = jobsReducer(state, { type: "removed", id: ID });
    expect(state[ID]).toBeUndefined();
  });

  it("ignores events without a job id", () => {
    const state: JobsState = {};
    const broken = { type: "progress", data: { seq: 1 } } as unknown as JobEvent;
    expect(jobsReducer(state, { type: "event", event: broken })).toBe(state);
  });
});

describe("segments", () => {
  it("merges by index, replacing changed ones, and keeps order", () => {
    const merged = mergeSegments([segment(0), segment(2)], [segment(1), segment(2, "changed")]);
    expect(merged.map((s) => s.text)).toEqual(["part 0", "part 1", "changed"]);
  });

  it("returns the same array when nothing is new", () => {
    const existing = [segment(0), segment(1)];
    expect(mergeSegments(existing, [segment(1)])).toBe(existing);
  });

  it("joins segment text until the final text is known", () => {
    expect(transcriptText(null, [segment(0, " Hello"), segment(1, " world.")])).toBe("Hello world.");
    expect(transcriptText(" Final. ", [])).toBe("Final.");
  });
});

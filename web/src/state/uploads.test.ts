import { describe, expect, it } from "vitest";
import { DEFAULT_UPLOAD_OPTIONS, type UploadOptions } from "../uploadOptions";
import { transcription } from "../test/fakes";
import { INTERRUPTED_MESSAGE, parseStored, toStored, uploadFraction, uploadsReducer, type UploadsAction, type UploadsState } from "./uploads";

const options: UploadOptions = { ...DEFAULT_UPLOAD_OPTIONS };

function added(...names: string[]): UploadsAction {
  return {
    type: "added",
    uploads: names.map((name, position) => ({ key: name, filename: name, size: 1000, options, addedAt: 100 - position, batch: "b1" })),
  };
}

function reduce(actions: UploadsAction[], start: UploadsState = []): UploadsState {
  return actions.reduce(uploadsReducer, start);
}

describe("uploadsReducer", () => {
  it("adds files as waiting rows, newest batch first, in pick order", () => {
    const state = reduce([added("a.mp3"), added("b.mp3", "c.mp3")]);
    expect(state.map((item) => item.key)).toEqual(["b.mp3", "c.mp3", "a.mp3"]);
    expect(state.every((item) => item.phase === "waiting")).toBe(true);
  });

  it("tracks bytes sent and ignores progress going backwards", () => {
    const state = reduce([
      added("a.mp3"),
      { type: "started", key: "a.mp3" },
      { type: "progressed", key: "a.mp3", loaded: 600, total: 1200 },
      { type: "progressed", key: "a.mp3", loaded: 300, total: 1200 },
    ]);
    expect(state[0]?.phase).toBe("uploading");
    expect(state[0]?.loaded).toBe(600);
    expect(uploadFraction(state[0]!)).toBe(0.5);
  });

  it("records the job of an accepted file", () => {
    const state = reduce([
      added("a.mp3"),
      { type: "started", key: "a.mp3" },
      { type: "finished", key: "a.mp3", outcome: { kind: "accepted", transcription: transcription({ id: "job-a" }) } },
    ]);
    expect(state[0]).toMatchObject({ phase: "accepted", jobId: "job-a", error: null });
    expect(uploadFraction(state[0]!)).toBe(1);
  });

  it("keeps a rejection on its own row; the others go on", () => {
    const state = reduce([
      added("good.mp3", "bad.mp3"),
      { type: "started", key: "good.mp3" },
      { type: "started", key: "bad.mp3" },
      {
        type: "finished",
        key: "bad.mp3",
        outcome: { kind: "rejected", error: { code: "unsupported_media", message: "This file has no audio stream." } },
      },
      { type: "progressed", key: "good.mp3", loaded: 500, total: 1000 },
    ]);
    const bad = state.find((item) => item.key === "bad.mp3");
    const good = state.find((item) => item.key === "good.mp3");
    expect(bad).toMatchObject({ phase: "rejected", error: { message: "This file has no audio stream." } });
    expect(good).toMatchObject({ phase: "uploading", loaded: 500, error: null });
  });

  it("lets a failed or cancelled upload be tried again, but not a rejected one", () => {
    let state = reduce([
      added("a.mp3", "b.mp3"),
      { type: "started", key: "a.mp3" },
      { type: "finished", key: "a.mp3", outcome: { kind: "failed", error: { code: "network_error", message: "offline" } } },
      { type: "finished", key: "b.mp3", outcome: { kind: "rejected", error: { code: "too_large", message: "big" } } },
    ]);
    state = reduce([{ type: "requeued", key: "a.mp3" }, { type: "requeued", key: "b.mp3" }], state);
    expect(state.find((item) => item.key === "a.mp3")).toMatchObject({ phase: "waiting", error: null });
    expect(state.find((item) => item.key === "b.mp3")?.phase).toBe("rejected");
  });

  it("ignores a late finish for a row already dismissed or done", () => {
    const state = reduce([added("a.mp3"), { type: "dismissed", key: "a.mp3" }]);
    expect(reduce([{ type: "finished", key: "a.mp3", outcome: { kind: "aborted" } }], state)).toBe(state);
  });

  it("clears finished rows and keeps running ones", () => {
    const state = reduce([
      added("done.mp3", "running.mp3", "bad.mp3"),
      { type: "started", key: "done.mp3" },
      { type: "finished", key: "done.mp3", outcome: { kind: "accepted", transcription: transcription({ id: "j1" }) } },
      { type: "started", key: "running.mp3" },
      { type: "finished", key: "running.mp3", outcome: { kind: "accepted", transcription: transcription({ id: "j2" }) } },
      { type: "finished", key: "bad.mp3", outcome: { kind: "rejected", error: { code: "x", message: "y" } } },
      { type: "clearedDone", finishedJobIds: ["j1"] },
    ]);
    expect(state.map((item) => item.key)).toEqual(["running.mp3"]);
  });

  it("restores remembered jobs once, newest first", () => {
    const stored = [
      { jobId: "j1", filename: "one.mp3", size: 10, addedAt: 1 },
      { jobId: "j2", filename: "two.mp3", size: 20, addedAt: 2 },
    ];
    const state = reduce([
      { type: "restored", stored },
      { type: "restored", stored },
    ]);
    expect(state.map((item) => item.jobId)).toEqual(["j2", "j1"]);
    expect(state.every((item) => item.phase === "accepted")).toBe(true);
    expect(state[0]!.options).toEqual({ ...DEFAULT_UPLOAD_OPTIONS });
    expect(reduce([{ type: "jobRemoved", jobId: "j1" }], state).map((item) => item.jobId)).toEqual(["j2"]);
  });
});

describe("stored uploads", () => {
  it("keeps accepted and refused rows, and unfinished uploads as interrupted, across a reload", () => {
    const state = reduce([
      added("a.mp3", "b.mp3", "c.txt", "d.mp3"),
      { type: "started", key: "a.mp3" },
      { type: "finished", key: "a.mp3", outcome: { kind: "accepted", transcription: transcription({ id: "j1" }) } },
      { type: "started", key: "b.mp3" },
      { type: "progressed", key: "b.mp3", loaded: 500, total: 1000 },
      { type: "started", key: "c.txt" },
      { type: "finished", key: "c.txt", outcome: { kind: "rejected", error: { code: "unsupported_media", message: "Not media." } } },
    ]);
    const stored = toStored(state);
    expect(stored).toEqual([
      { jobId: "j1", filename: "a.mp3", size: 1000, addedAt: 100, phase: "accepted" },
      { jobId: null, filename: "b.mp3", size: 1000, addedAt: 99, phase: "interrupted", key: "b.mp3" },
      {
        jobId: null,
        filename: "c.txt",
        size: 1000,
        addedAt: 98,
        phase: "rejected",
        key: "c.txt",
        error: { code: "unsupported_media", message: "Not media." },
      },
      { jobId: null, filename: "d.mp3", size: 1000, addedAt: 97, phase: "interrupted", key: "d.mp3" },
    ]);
    expect(parseStored(JSON.stringify(stored))).toEqual(stored);

    const reloaded = reduce([{ type: "restored", stored: parseStored(JSON.stringify(stored)) }]);
    expect(reloaded.map((item) => [item.filename, item.phase, item.error?.message ?? null])).toEqual([
      ["a.mp3", "accepted", null],
      ["b.mp3", "interrupted", INTERRUPTED_MESSAGE],
      ["c.txt", "rejected", "Not media."],
      ["d.mp3", "interrupted", INTERRUPTED_MESSAGE],
    ]);
    // kept until dismissed, and cleared with the finished ones
    expect(reduce([{ type: "dismissed", key: "b.mp3" }], reloaded)).toHaveLength(3);
    expect(reduce([{ type: "clearedDone", finishedJobIds: [] }], reloaded).map((item) => item.filename)).toEqual(["a.mp3"]);
  });

  it("refuses an empty file at once", () => {
    const state = reduce([
      { type: "added", uploads: [{ key: "e", filename: "empty.wav", size: 0, options, addedAt: 1, batch: "b", error: { code: "empty_file", message: "Empty." } }] },
    ]);
    expect(state[0]).toMatchObject({ phase: "rejected", error: { code: "empty_file" } });
  });

  it("survives garbage in storage", () => {
    expect(parseStored(null)).toEqual([]);
    expect(parseStored("{not json")).toEqual([]);
    expect(parseStored(JSON.stringify({ a: 1 }))).toEqual([]);
    expect(parseStored(JSON.stringify([{ jobId: 3 }, { jobId: "ok", filename: "f", size: 1, addedAt: 2 }]))).toHaveLength(1);
  });
});

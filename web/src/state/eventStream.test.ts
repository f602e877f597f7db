import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { JobEvent } from "../api/types";
import { eventsUrl } from "../api/client";
import { FakeEventSource } from "../test/fakes";
import { JobEventStream, type ConnectionState } from "./eventStream";

function setup(positions: Record<string, number> = {}) {
  const events: JobEvent[] = [];
  const states: ConnectionState[] = [];
  const stream = new JobEventStream({
    open: (ids, since) => new FakeEventSource(eventsUrl(ids, since)) as unknown as EventSource,
    positions: () => positions,
    onEvent: (event) => events.push(event),
    onState: (state) => states.push(state),
    settleMs: 10,
    retryMs: 100,
  });
  return { stream, events, states };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeEventSource.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("JobEventStream", () => {
  it("opens one stream for all ids and reopens it once when the set changes", () => {
    const { stream } = setup();
    stream.setIds(["b", "a"]);
    stream.setIds(["a", "b", "c"]);
    vi.advanceTimersByTime(20);
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(FakeEventSource.instances[0]!.ids).toEqual(["a", "b", "c"]);

    stream.setIds(["c", "b", "a"]);
    vi.advanceTimersByTime(20);
    expect(FakeEventSource.instances).toHaveLength(1);

    stream.setIds(["a", "c"]);
    vi.advanceTimersByTime(20);
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.open()).toHaveLength(1);
    expect(FakeEventSource.open()[0]!.ids).toEqual(["a", "c"]);
  });

  it("starts after the known positions, and from a full snapshot after a failure", () => {
    const { stream } = setup({ a: 4, b: 0, z: 9 });
    stream.setIds(["a", "b"]);
    vi.advanceTimersByTime(20);
    const first = FakeEventSource.instances[0]!;
    expect(first.since).toEqual({ a: 4 });
    first.fail(true);
    vi.advanceTimersByTime(100);
    expect(FakeEventSource.instances[1]!.since).toEqual({});
  });

  it("follows at most 200 jobs on one stream", () => {
    const { stream } = setup();
    stream.setIds(Array.from({ length: 250 }, (_, n) => `job-${String(n).padStart(3, "0")}`));
    vi.advanceTimersByTime(20);
    expect(FakeEventSource.instances[0]!.ids).toHaveLength(200);
  });

  it("closes the stream when nothing is followed", () => {
    const { stream, states } = setup();
    stream.setIds(["a"]);
    vi.advanceTimersByTime(20);
    FakeEventSource.instances[0]!.accept();
    stream.setIds([]);
    vi.advanceTimersByTime(20);
    expect(FakeEventSource.open()).toHaveLength(0);
    expect(states).toEqual(["connecting", "open", "idle"]);
  });

  it("passes typed events on and skips malformed frames", () => {
    const { stream, events } = setup();
    stream.setIds(["a"]);
    vi.advanceTimersByTime(20);
    const source = FakeEventSource.instances[0]!;
    source.emit("progress", { id: "a", seq: 3, status: "processing", progress: 0.5 });
    source.emit("progress", "not json");
    source.emit("completed", JSON.stringify({ seq: 4 }));
    expect(events).toEqual([{ type: "progress", data: { id: "a", seq: 3, status: "processing", progress: 0.5 } }]);
  });

  it("lets the browser reconnect by itself, and retries when it gave up", () => {
    const { stream, states } = setup();
    stream.setIds(["a"]);
    vi.advanceTimersByTime(20);
    const first = FakeEventSource.instances[0]!;
    first.accept();
    first.fail(false);
    expect(states.at(-1)).toBe("reconnecting");
    expect(FakeEventSource.instances).toHaveLength(1);

    first.fail(true);
    vi.advanceTimersByTime(99);
    expect(FakeEventSource.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeEventSource.instances).toHaveLength(2);
    FakeEventSource.instances[1]!.accept();
    expect(states.at(-1)).toBe("open");
  });

  it("ignores frames from a stream it already replaced", () => {
    const { stream, events } = setup();
    stream.setIds(["a"]);
    vi.advanceTimersByTime(20);
    const old = FakeEventSource.instances[0]!;
    stream.setIds(["a", "b"]);
    vi.advanceTimersByTime(20);
    old.emit("queued", { id: "a", seq: 1, status: "queued", progress: 0 });
    expect(events).toEqual([]);
  });
});

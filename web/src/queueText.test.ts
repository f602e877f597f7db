import { describe, expect, it } from "vitest";
import { ordinal, queueLine, waitUntil } from "./queueText";

const now = Date.parse("2026-01-01T10:00:00Z");
const later = (minutes: number) => new Date(now + minutes * 60_000).toISOString();

describe("queue text", () => {
  it("writes ordinals", () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 103, 111].map(ordinal)).toEqual([
      "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "103rd", "111th",
    ]);
  });

  it("rounds waits to minutes and hours", () => {
    expect(waitUntil(null, now)).toBeNull();
    expect(waitUntil("nonsense", now)).toBeNull();
    expect(waitUntil(later(-3), now)).toBe("under a minute");
    expect(waitUntil(later(2.2), now)).toBe("about 2 min");
    expect(waitUntil(later(60), now)).toBe("about 1 h");
    expect(waitUntil(later(70), now)).toBe("about 1 h 10 min");
  });

  it("tells a waiting job's place and start, a running job's end", () => {
    expect(queueLine({ status: "queued", position: 3, eta: { starts_at: later(2), finishes_at: later(5) } }, now)).toBe(
      "3rd in line · starts in about 2 min",
    );
    expect(queueLine({ status: "queued", position: 1, eta: null }, now)).toBe("Next in line");
    expect(queueLine({ status: "queued", position: null, eta: null }, now)).toBeNull();
    expect(queueLine({ status: "processing", position: null, eta: { finishes_at: later(4) } }, now)).toBe("done in about 4 min");
    expect(queueLine({ status: "completed", position: null, eta: null }, now)).toBeNull();
  });
});

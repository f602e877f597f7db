import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, formatPercent, formatTimestamp } from "./format";

describe("format", () => {
  it("writes durations in whole seconds", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(137.8)).toBe("2:17");
    expect(formatDuration(3725.8)).toBe("1:02:05");
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(Number.NaN)).toBe("—");
    expect(formatTimestamp(9.99)).toBe("0:09");
  });

  it("writes sizes and percentages", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(5.8 * 1024 * 1024)).toBe("5.8 MB");
    expect(formatPercent(0.999)).toBe("99%");
    expect(formatPercent(1)).toBe("100%");
  });
});

import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Segment } from "../api/types";
import { SegmentList, segmentAt } from "./SegmentList";

const segments: Segment[] = [
  { index: 0, start: 0, end: 2.5, text: " First sentence." },
  { index: 1, start: 2.5, end: 6, text: " Second sentence." },
  { index: 2, start: 7, end: 65, text: " Third, after a pause." },
];

describe("SegmentList", () => {
  it("calls onSeek with the clicked segment", () => {
    const onSeek = vi.fn();
    render(<SegmentList segments={segments} activeIndex={null} onSeek={onSeek} />);
    fireEvent.click(screen.getByRole("button", { name: /Second sentence/ }));
    expect(onSeek).toHaveBeenCalledWith(segments[1]);
  });

  it("shows timestamps and marks the segment being played", () => {
    render(<SegmentList segments={segments} activeIndex={2} onSeek={() => undefined} />);
    const active = screen.getByRole("button", { name: /Third/ });
    expect(active.getAttribute("aria-current")).toBe("true");
    expect(active.textContent).toContain("0:07");
    expect(screen.getByRole("button", { name: /First/ }).getAttribute("aria-current")).toBeNull();
  });

  it("finds the segment at a playback time", () => {
    expect(segmentAt(segments, 0)).toBe(0);
    expect(segmentAt(segments, 2.5)).toBe(1);
    expect(segmentAt(segments, 6.5)).toBeNull();
    expect(segmentAt(segments, 30)).toBe(2);
    expect(segmentAt(segments, 99)).toBeNull();
    expect(segmentAt([], 1)).toBeNull();
  });
});

import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Segment } from "../api/types";
import { positionAt, segmentAt } from "../playback";
import { SegmentList } from "./SegmentList";

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

  it("highlights the word being played and seeks to a clicked word", () => {
    const withWords: Segment[] = [
      {
        index: 0,
        start: 0,
        end: 2,
        text: " Hello brave world.",
        words: [
          { start: 0, end: 0.5, word: " Hello" },
          { start: 0.6, end: 1.1, word: " brave" },
          { start: 1.2, end: 2, word: " world." },
        ],
      },
    ];
    expect(positionAt(withWords, 0.7)).toEqual({ segment: 0, word: 1 });
    expect(positionAt(withWords, 3)).toEqual({ segment: null, word: null });
    expect(positionAt(segments, 3)).toEqual({ segment: 1, word: null });

    const onSeek = vi.fn();
    render(<SegmentList segments={withWords} activeIndex={0} activeWord={1} onSeek={onSeek} />);
    const brave = screen.getByText("brave", { exact: false });
    expect(brave.className).toContain("word--active");
    expect(screen.getByRole("button").textContent).toContain("Hello brave world.");
    fireEvent.click(screen.getByText("world.", { exact: false }));
    expect(onSeek).toHaveBeenCalledWith(withWords[0], 1.2);
  });
});

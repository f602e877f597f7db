import { memo, useEffect, useRef } from "react";
import type { Segment } from "../api/types";
import { formatTimestamp } from "../format";

interface SegmentListProps {
  segments: readonly Segment[];
  activeIndex: number | null;
  onSeek: (segment: Segment) => void;
  /** Scroll the active segment into view as playback moves on. */
  follow?: boolean;
}

/** The index of the segment playing at `time`, or null between segments. */
export function segmentAt(segments: readonly Segment[], time: number): number | null {
  let low = 0;
  let high = segments.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (segments[middle]!.start <= time) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  if (found === -1) return null;
  const segment = segments[found]!;
  return time < segment.end ? segment.index : null;
}

function SegmentListView({ segments, activeIndex, onSeek, follow = true }: SegmentListProps) {
  const list = useRef<HTMLOListElement>(null);

  useEffect(() => {
    if (!follow || activeIndex === null) return;
    const element = list.current?.querySelector<HTMLElement>(`[data-index="${activeIndex}"]`);
    if (element && typeof element.scrollIntoView === "function") {
      element.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }, [activeIndex, follow]);

  return (
    <ol className="segments" ref={list} aria-label="Transcript segments">
      {segments.map((segment) => {
        const active = segment.index === activeIndex;
        return (
          <li key={segment.index}>
            <button
              type="button"
              className={`segment${active ? " segment--active" : ""}`}
              data-index={segment.index}
              data-start={segment.start}
              aria-current={active ? "true" : undefined}
              onClick={() => onSeek(segment)}
            >
              <span className="segment__time">
                <span className="visually-hidden">Play from </span>
                {formatTimestamp(segment.start)}
              </span>
              <span className="segment__text">{segment.text.trim()}</span>
            </button>
          </li>
        );
      })}
    </ol>
  );
}

export const SegmentList = memo(SegmentListView);

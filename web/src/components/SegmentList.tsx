import { Fragment, memo, useEffect, useRef, type MouseEvent, type ReactNode } from "react";
import type { Segment } from "../api/types";
import { formatTimestamp } from "../format";
import { segmentWords, type Word } from "../playback";

interface SegmentListProps {
  segments: readonly Segment[];
  activeIndex: number | null;
  activeWord?: number | null;
  /** Called with the segment clicked, and the start of the word clicked when there is one. */
  onSeek: (segment: Segment, at?: number) => void;
  /** Scroll the active segment into view as playback moves on. */
  follow?: boolean;
  /** What is shown above a segment's text (its speaker), if anything. */
  label?: (segment: Segment) => ReactNode;
}

interface SegmentRowProps {
  segment: Segment;
  active: boolean;
  activeWord: number | null;
  onSeek: (segment: Segment, at?: number) => void;
  label?: (segment: Segment) => ReactNode;
}

function Words({ words, activeWord }: { words: readonly Word[]; activeWord: number | null }) {
  return (
    <>
      {words.map((word, position) => {
        const text = word.word.trimStart();
        const gap = position > 0 && text.length < word.word.length ? " " : "";
        return (
          <Fragment key={position}>
            {gap}
            <span className={position === activeWord ? "word word--active" : "word"} data-word-start={word.start}>
              {text}
            </span>
          </Fragment>
        );
      })}
    </>
  );
}

const SegmentRow = memo(function SegmentRow({ segment, active, activeWord, onSeek, label }: SegmentRowProps) {
  const onClick = (event: MouseEvent<HTMLButtonElement>) => {
    const word = (event.target as HTMLElement).closest?.("[data-word-start]");
    const at = word ? Number(word.getAttribute("data-word-start")) : Number.NaN;
    if (Number.isFinite(at)) onSeek(segment, at);
    else onSeek(segment);
  };
  const timed = segmentWords(segment);
  const words = timed.length > 0 ? timed : null;
  return (
    <li>
      <button
        type="button"
        className={`segment${active ? " segment--active" : ""}`}
        data-index={segment.index}
        data-start={segment.start}
        aria-current={active ? "true" : undefined}
        onClick={onClick}
      >
        <span className="segment__time">
          <span className="visually-hidden">Play from </span>
          {formatTimestamp(segment.start)}
        </span>
        <span className="segment__text">
          {label ? label(segment) : null}
          {words ? <Words words={words} activeWord={active ? activeWord : null} /> : segment.text.trim()}
        </span>
      </button>
    </li>
  );
});

function SegmentListView({ segments, activeIndex, activeWord = null, onSeek, follow = true, label }: SegmentListProps) {
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
          <SegmentRow
            key={segment.index}
            segment={segment}
            active={active}
            activeWord={active ? activeWord : null}
            onSeek={onSeek}
            label={label}
          />
        );
      })}
    </ol>
  );
}

export const SegmentList = memo(SegmentListView);

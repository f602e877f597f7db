// The transcript itself: timed segments to play from, else the plain text, else why there is none.

import type { Segment } from "../../api/types";
import { Notice } from "../../components/Notice";
import { SegmentList } from "../../components/SegmentList";
import type { PlaybackPosition } from "../../playback";
import type { JobStatus } from "../../status";
import { isTerminal } from "../../status";

interface TranscriptBodyProps {
  status: JobStatus;
  segments: readonly Segment[];
  text: string;
  position: PlaybackPosition;
  onSeek: (segment: Segment, at?: number) => void;
}

export function TranscriptBody({ status, segments, text, position, onSeek }: TranscriptBodyProps) {
  return (
    <section className="transcript__body" aria-labelledby="segments-heading">
      <h2 id="segments-heading" className="visually-hidden">
        Transcript
      </h2>
      {segments.length > 0 ? (
        <SegmentList segments={segments} activeIndex={position.segment} activeWord={position.word} onSeek={onSeek} />
      ) : text ? (
        <p className="transcript__plain">{text}</p>
      ) : !isTerminal(status) ? (
        <Notice tone="empty" title="No text yet">
          The first segments appear here as soon as the worker recognises them.
        </Notice>
      ) : status === "completed" ? (
        <Notice tone="empty" title="No speech was recognised in this recording." />
      ) : (
        <Notice tone="empty" title="No transcript" />
      )}
    </section>
  );
}

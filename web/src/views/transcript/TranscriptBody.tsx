// The transcript itself: timed segments to play from, else the plain text, else why there is none.

import { useCallback } from "react";
import type { Segment } from "../../api/types";
import { Notice } from "../../components/Notice";
import { formatTimestamp } from "../../format";
import { SegmentList } from "../../components/SegmentList";
import type { PlaybackPosition } from "../../playback";
import type { JobStatus } from "../../status";
import { isTerminal } from "../../status";
import { SegmentEditor } from "./SegmentEditor";
import { SpeakerTag, type SpeakerNames } from "./speakers";
import type { SegmentEdits } from "./useSegmentEdits";

interface TranscriptBodyProps {
  status: JobStatus;
  segments: readonly Segment[];
  text: string;
  position: PlaybackPosition;
  onSeek: (segment: Segment, at?: number) => void;
  /** Speaker names by id (null: the transcript has no speaker labels). */
  speakers?: SpeakerNames | null;
  /** A stopped run's segments beyond what the new run has recognised (see `useEarlierRun`). */
  earlier?: readonly Segment[];
  /** Correcting the text: the saved edits, and whether the fields are shown (completed jobs only). */
  editor?: { edits: SegmentEdits; editing: boolean; setEditing: (editing: boolean) => void } | null;
}

function EditBar({ edits, editing, setEditing }: NonNullable<TranscriptBodyProps["editor"]>) {
  const busy = edits.saving !== null;
  return (
    <div className="transcript__toolbar">
      {editing ? (
        <p className="small muted transcript__toolbar-help">Enter saves a line and moves on; Escape puts it back.</p>
      ) : null}
      <span className="small muted" aria-live="polite">
        {busy ? "Saving…" : ""}
      </span>
      {edits.lastEdit ? (
        <button type="button" className="button button--quiet" onClick={() => void edits.undo()} disabled={busy}>
          Undo last edit
        </button>
      ) : null}
      <button
        type="button"
        className="button button--quiet"
        aria-pressed={editing}
        onClick={() => setEditing(!editing)}
      >
        {editing ? "Done editing" : "Edit text"}
      </button>
    </div>
  );
}

function EarlierRun({ segments }: { segments: readonly Segment[] }) {
  return (
    <div className="earlier-run">
      <p className="earlier-run__caption small">From the run that stopped: replaced as the new run reaches it.</p>
      <ol className="segments segments--earlier" aria-label="Text of the run that stopped">
        {segments.map((segment) => (
          <li key={segment.index} className="segment segment--earlier">
            <span className="segment__time">{formatTimestamp(segment.start)}</span>
            <span className="segment__text">{segment.text.trim()}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

export function TranscriptBody(props: TranscriptBodyProps) {
  const { status, segments, text, position, onSeek, speakers = null, earlier = [], editor = null } = props;
  const label = useCallback(
    (segment: Segment) =>
      segment.speaker ? (
        <span className="segment__speaker">
          <SpeakerTag id={segment.speaker} names={speakers} />
        </span>
      ) : null,
    [speakers],
  );
  return (
    <section className="transcript__body" aria-labelledby="segments-heading">
      <h2 id="segments-heading" className="visually-hidden">
        Transcript
      </h2>
      {editor && segments.length > 0 ? <EditBar {...editor} /> : null}
      {editor?.editing && segments.length > 0 ? (
        <SegmentEditor segments={segments} edits={editor.edits} label={label} />
      ) : segments.length > 0 ? (
        <SegmentList segments={segments} activeIndex={position.segment} activeWord={position.word} onSeek={onSeek} label={label} />
      ) : null}
      {earlier.length > 0 ? (
        <EarlierRun segments={earlier} />
      ) : segments.length > 0 ? null : text ? (
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

// The transcript's segments as text fields, to correct in place. Enter (or leaving the field)
// saves a line and moves to the next, Shift+Enter too but to the previous one, Escape puts back
// the saved text; "Undo last edit" takes back the latest saved change.

import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import type { Segment } from "../../api/types";
import { formatTimestamp } from "../../format";
import { cleanText, type SegmentEdits } from "./useSegmentEdits";

interface SegmentEditorProps {
  segments: readonly Segment[];
  edits: SegmentEdits;
  /** What is shown above a segment's text (its speaker), if anything. */
  label?: (segment: Segment) => ReactNode;
}

function fieldOf(list: HTMLOListElement | null, position: number): HTMLTextAreaElement | null {
  return list?.querySelectorAll<HTMLTextAreaElement>("textarea")[position] ?? null;
}

function SegmentField({ segment, edits, label, onDone }: {
  segment: Segment;
  edits: SegmentEdits;
  label?: (segment: Segment) => ReactNode;
  onDone: (step: 1 | -1) => void;
}) {
  const saved = segment.text.trim();
  const [draft, setDraft] = useState(saved);
  // The text last saved from here: leaving the field right after Enter saves nothing again.
  const committed = useRef(cleanText(saved));
  useEffect(() => {
    setDraft(saved);
    committed.current = cleanText(saved);
  }, [saved]);
  const error = edits.error?.index === segment.index ? edits.error.message : null;
  const errorId = `segment-error-${segment.index}`;

  const commit = async (step: 1 | -1 | null) => {
    const text = cleanText(draft);
    const ok = text === committed.current || (await edits.save(segment, draft));
    if (ok) committed.current = text;
    if (ok && step !== null) onDone(step);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter") {
      event.preventDefault();
      void commit(event.shiftKey ? -1 : 1);
    } else if (event.key === "Escape") {
      event.preventDefault();
      setDraft(saved);
      edits.clearError();
    }
  };
  const changed = cleanText(draft) !== cleanText(saved);
  return (
    <li className={`segment-edit${changed ? " segment-edit--changed" : ""}`} data-index={segment.index}>
      <span className="segment__time" aria-hidden="true">
        {formatTimestamp(segment.start)}
      </span>
      <span className="segment-edit__body">
        {label ? label(segment) : null}
        <textarea
          className="segment-edit__field"
          aria-label={`Text at ${formatTimestamp(segment.start)}`}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          value={draft}
          rows={Math.max(1, Math.ceil(draft.length / 60))}
          readOnly={edits.saving === segment.index}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
          onBlur={() => void commit(null)}
        />
        {error ? (
          <span id={errorId} className="small error-text" role="alert">
            {error}
          </span>
        ) : null}
      </span>
    </li>
  );
}

export function SegmentEditor({ segments, edits, label }: SegmentEditorProps) {
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => fieldOf(list.current, 0)?.focus(), []);
  return (
    <ol className="segments segments--editing" ref={list} aria-label="Transcript segments, editable">
      {segments.map((segment, position) => (
        <SegmentField
          key={segment.index}
          segment={segment}
          edits={edits}
          label={label}
          onDone={(step) => fieldOf(list.current, position + step)?.focus()}
        />
      ))}
    </ol>
  );
}

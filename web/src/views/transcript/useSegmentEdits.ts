// Correcting a transcript's segments: each saved change is one PATCH, which the server keeps as
// a new revision (the recognition stays as revision 0). Edits made on this page can be undone,
// last first; an undo is itself saved as a new revision.

import { useCallback, useRef, useState } from "react";
import { changeTranscription } from "../../api/client";
import type { Segment } from "../../api/types";
import { useJobsDispatch } from "../../state/JobsProvider";
import { toApiError } from "./useTranscriptRecord";

interface Edit {
  index: number;
  before: string;
  after: string;
}

export interface SegmentEdits {
  /** The segment being saved, if any. */
  saving: number | null;
  /** The server's reason the last save was refused, and for which segment. */
  error: { index: number; message: string } | null;
  /** Saves `text` as the segment's text; resolves true once saved (or when nothing changed). */
  save: (segment: Segment, text: string) => Promise<boolean>;
  /** The latest edit made here, which `undo` takes back. */
  lastEdit: Edit | null;
  undo: () => Promise<void>;
  clearError: () => void;
}

/** The text as the server will keep it: white space collapsed, trimmed. */
export function cleanText(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

export function useSegmentEdits(id: string, revision: number | null): SegmentEdits {
  const jobsDispatch = useJobsDispatch();
  const [saving, setSaving] = useState<number | null>(null);
  const [error, setError] = useState<SegmentEdits["error"]>(null);
  const [edits, setEdits] = useState<readonly Edit[]>([]);
  const inFlight = useRef(false);

  const send = useCallback(
    async (index: number, text: string): Promise<boolean> => {
      if (inFlight.current) return false; // one change at a time: each is made on the latest revision
      inFlight.current = true;
      setSaving(index);
      setError(null);
      try {
        const changes = { segments: [{ index, text }], ...(revision === null ? {} : { revision }) };
        const transcription = await changeTranscription(id, changes);
        jobsDispatch({ type: "loaded", transcription });
        return true;
      } catch (caught) {
        setError({ index, message: toApiError(caught).message });
        return false;
      } finally {
        inFlight.current = false;
        setSaving(null);
      }
    },
    [id, revision, jobsDispatch],
  );

  const save = useCallback(
    async (segment: Segment, text: string) => {
      const before = cleanText(segment.text);
      const after = cleanText(text);
      if (after === before) return true;
      const saved = await send(segment.index, after);
      if (saved) setEdits((held) => [...held, { index: segment.index, before, after }]);
      return saved;
    },
    [send],
  );

  const lastEdit = edits.length > 0 ? edits[edits.length - 1]! : null;
  const undo = useCallback(async () => {
    if (!lastEdit) return;
    if (await send(lastEdit.index, lastEdit.before)) setEdits((held) => held.slice(0, -1));
  }, [lastEdit, send]);

  const clearError = useCallback(() => setError(null), []);
  return { saving, error, save, lastEdit, undo, clearError };
}

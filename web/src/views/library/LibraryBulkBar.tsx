// What can be done to the chosen rows at once: delete (asked first), retry, cancel, and a zip
// of their transcripts in one format.

import { useState } from "react";
import { exportUrl } from "../../api/client";
import type { TranscriptFormat } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { TRANSCRIPT_FORMATS } from "../transcript/TranscriptDownloads";

export type BulkVerb = "delete" | "retry" | "cancel";


interface LibraryBulkBarProps {
  ids: readonly string[];
  busy: boolean;
  onAction: (verb: BulkVerb) => void;
  onClear: () => void;
}

export function LibraryBulkBar({ ids, busy, onAction, onClear }: LibraryBulkBarProps) {
  const [format, setFormat] = useState<TranscriptFormat>("srt");
  const [confirming, setConfirming] = useState(false);
  const count = ids.length;
  const what = count === 1 ? "1 transcription" : `${count} transcriptions`;
  return (
    <div className="bulk-bar" role="region" aria-label="Selected transcriptions">
      <span className="bulk-bar__count">{count} selected</span>
      <button type="button" className="button button--small" disabled={busy} onClick={() => onAction("retry")}>
        Retry
      </button>
      <button type="button" className="button button--small" disabled={busy} onClick={() => onAction("cancel")}>
        Cancel jobs
      </button>
      <span className="bulk-bar__download">
        <label className="visually-hidden" htmlFor="bulk-format">
          Download format
        </label>
        <select id="bulk-format" value={format} onChange={(event) => setFormat(event.target.value as TranscriptFormat)}>
          {TRANSCRIPT_FORMATS.map((name) => (
            <option key={name} value={name}>
              {name.toUpperCase()}
            </option>
          ))}
        </select>
        <a className="button button--small" href={exportUrl(ids, format)} download>
          Download zip
        </a>
      </span>
      <button type="button" className="button button--small button--danger" disabled={busy} onClick={() => setConfirming(true)}>
        Delete
      </button>
      <button type="button" className="button button--quiet button--small" onClick={onClear}>
        Clear selection
      </button>
      {confirming ? (
        <ConfirmDialog
          title={`Delete ${what}?`}
          confirmLabel="Delete"
          busy={busy}
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            onAction("delete");
          }}
        >
          Their recordings and transcripts are removed for good.
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

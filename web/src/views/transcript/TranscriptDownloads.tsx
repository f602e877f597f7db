// The download links of a finished transcript, and copying its text.

import { useEffect, useRef, useState } from "react";
import { browserUrl, transcriptUrl } from "../../api/client";
import type { TranscriptFormat } from "../../api/types";
import { copyText } from "../../clipboard";
import { CopyIcon, DownloadIcon } from "../../components/Icons";

/** The formats offered for download, in the order shown. */
export const TRANSCRIPT_FORMATS: readonly TranscriptFormat[] = ["txt", "srt", "vtt", "json", "tsv"];

const COPIED_MESSAGE_MS = 2500;

/** The transcript as recognised (revision 0), before any edit. */
function originalUrl(id: string, format: TranscriptFormat): string {
  return browserUrl(`/api/transcriptions/${encodeURIComponent(id)}/transcript`, { format, revision: 0 });
}

interface TranscriptDownloadsProps {
  id: string;
  completed: boolean;
  /** Edited since recognised: the recognition (revision 0) is offered too. */
  edited?: boolean;
  /** The transcript so far (empty: nothing to copy). */
  text: string;
}

export function TranscriptDownloads({ id, completed, edited = false, text }: TranscriptDownloadsProps) {
  const [copied, setCopied] = useState<"done" | "failed" | null>(null);
  const timer = useRef<number | null>(null);
  useEffect(() => () => {
    if (timer.current !== null) window.clearTimeout(timer.current);
  }, []);

  const copy = async () => {
    const ok = await copyText(text);
    setCopied(ok ? "done" : "failed");
    if (timer.current !== null) window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setCopied(null), COPIED_MESSAGE_MS);
  };

  return (
    <div className="side-panel">
      <h2 className="side-panel__title">
        <DownloadIcon size={14} /> Download
      </h2>
      {completed ? (
        <ul className="downloads">
          {TRANSCRIPT_FORMATS.map((format) => (
            <li key={format}>
              <a className="download" href={transcriptUrl(id, format)} download>
                {format.toUpperCase()}
                <span className="visually-hidden"> transcript</span>
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <p className="small muted">Downloads are available once the transcription has completed.</p>
      )}
      {completed && edited ? (
        <p className="small downloads__original">
          As recognised, before the edits:{" "}
          {TRANSCRIPT_FORMATS.map((format, n) => (
            <span key={format}>
              {n > 0 ? " · " : null}
              <a href={originalUrl(id, format)} download>
                {format.toUpperCase()}
                <span className="visually-hidden"> as recognised</span>
              </a>
            </span>
          ))}
        </p>
      ) : null}
      <button type="button" className="button button--quiet button--block" onClick={() => void copy()} disabled={!text}>
        <CopyIcon size={16} /> {copied === "done" ? "Copied" : "Copy text"}
      </button>
      <p className={copied === "failed" ? "small error-text" : "visually-hidden"} aria-live="polite">
        {copied === "done" ? "Transcript copied to the clipboard." : copied === "failed" ? "Copying is not available in this browser." : ""}
      </p>
    </div>
  );
}

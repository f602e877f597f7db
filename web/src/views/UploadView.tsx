import { useCallback, useEffect, useState } from "react";
import type { listModels } from "../api/client";
import { chosenModel, limitsText, optionsForModel, parseUploadOptions, type UploadOptions } from "../uploadOptions";
import { DropZone } from "../components/DropZone";
import { Notice } from "../components/Notice";
import { UploadOptionsForm } from "../components/UploadOptionsForm";
import { UploadRow } from "../components/UploadRow";
import { Link } from "../router";
import { isTerminal } from "../status";
import { useJobs } from "../state/JobsProvider";
import { useUploads } from "../state/UploadsProvider";
import { useLimits, useModels } from "../state/serverInfo";
import { notificationsSupported } from "../state/useDoneSignals";
import { useDocumentTitle } from "./useDocumentTitle";

const OPTIONS_KEY = "soundscripter.uploadOptions.v1";

function loadOptions(): UploadOptions {
  try {
    return parseUploadOptions(window.localStorage.getItem(OPTIONS_KEY));
  } catch {
    return parseUploadOptions(null);
  }
}

export function UploadView({ loadModels }: { loadModels?: typeof listModels } = {}) {
  useDocumentTitle("Upload");
  const models = useModels(loadModels);
  const limits = useLimits();
  const { items, addFiles, cancelUpload, retryUpload, dismiss, clearFinished, notify, setNotifications } = useUploads();
  const [added, setAdded] = useState<string | null>(null);
  const jobs = useJobs();
  const [options, setOptions] = useState<UploadOptions>(loadOptions);

  const changeOptions = useCallback((next: UploadOptions) => {
    setOptions(next);
    try {
      window.localStorage.setItem(OPTIONS_KEY, JSON.stringify(next));
    } catch {
      // remembering options is a convenience
    }
  }, []);

  const sent = optionsForModel(options, chosenModel(options, models));
  const onFiles = useCallback((files: File[]) => setAdded(addFiles(files, sent)[0] ?? null), [addFiles, sent]);

  // New rows go on top of the list, which on a phone is below the fold: bring them into view.
  useEffect(() => {
    if (!added) return;
    const row = Array.from(document.querySelectorAll<HTMLElement>("li[data-key]")).find((li) => li.dataset.key === added);
    const reduced = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;
    row?.scrollIntoView?.({ block: "nearest", behavior: reduced ? "auto" : "smooth" });
    setAdded(null);
  }, [added]);

  const finishedCount = items.filter((item) => {
    if (item.phase === "rejected" || item.phase === "aborted" || item.phase === "interrupted") return true;
    const job = item.jobId ? jobs[item.jobId] : undefined;
    return item.phase === "accepted" && job !== undefined && isTerminal(job.record.status);
  }).length;
  const activeCount = items.filter((item) => {
    if (item.phase === "waiting" || item.phase === "uploading") return true;
    const job = item.jobId ? jobs[item.jobId] : undefined;
    return item.phase === "accepted" && (job === undefined || !isTerminal(job.record.status));
  }).length;

  return (
    <div className="view view--upload">
      <header className="view__header">
        <h1 tabIndex={-1}>Upload</h1>
        <p className="view__lead">
          Add recordings and follow each one as it is uploaded and transcribed. The text appears as it is
          recognised.
        </p>
      </header>

      <section className="upload-panel" aria-label="Add files">
        <div className="upload-panel__drop">
          <DropZone onFiles={onFiles} />
          {limits ? <p className="muted small upload-limits">{limitsText(limits)}</p> : null}
        </div>
        <UploadOptionsForm value={sent} onChange={changeOptions} models={models} />
      </section>

      <section className="uploads" aria-labelledby="uploads-heading">
        <div className="section-header">
          <h2 id="uploads-heading">
            Recent uploads
            {items.length > 0 ? <span className="count">{items.length}</span> : null}
          </h2>
          {notificationsSupported() ? (
            <label className="notify-toggle small">
              <input type="checkbox" checked={notify} onChange={(event) => void setNotifications(event.target.checked)} />
              Notify me when a batch is done
            </label>
          ) : null}
          {finishedCount > 0 ? (
            <button type="button" className="button button--quiet button--small" onClick={clearFinished}>
              Clear finished
            </button>
          ) : null}
        </div>
        {activeCount > 0 ? (
          <p className="muted small">
            {activeCount === 1 ? "1 file is" : `${activeCount} files are`} in progress. You can leave this page;
            progress is kept.
          </p>
        ) : null}
        {items.length === 0 ? (
          <Notice tone="empty" title="Nothing uploaded yet">
            Files you add appear here with their progress. Earlier transcriptions are in the{" "}
            <Link to="/library">library</Link>.
          </Notice>
        ) : (
          <ul className="upload-list">
            {items.map((item) => (
              <UploadRow
                key={item.key}
                item={item}
                job={item.jobId ? jobs[item.jobId] : undefined}
                onCancel={cancelUpload}
                onRetry={retryUpload}
                onDismiss={dismiss}
              />
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

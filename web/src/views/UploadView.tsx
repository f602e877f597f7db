import { useCallback, useState } from "react";
import { DEFAULT_UPLOAD_OPTIONS, type UploadOptions } from "../uploadOptions";
import { DropZone } from "../components/DropZone";
import { Notice } from "../components/Notice";
import { UploadOptionsForm } from "../components/UploadOptionsForm";
import { UploadRow } from "../components/UploadRow";
import { Link } from "../router";
import { isTerminal } from "../status";
import { useJobs } from "../state/JobsProvider";
import { useUploads } from "../state/UploadsProvider";
import { useDocumentTitle } from "./useDocumentTitle";

const OPTIONS_KEY = "soundscripter.uploadOptions.v1";

function loadOptions(): UploadOptions {
  try {
    const raw = window.localStorage.getItem(OPTIONS_KEY);
    if (!raw) return DEFAULT_UPLOAD_OPTIONS;
    const value = JSON.parse(raw) as Partial<UploadOptions>;
    return {
      language: typeof value.language === "string" ? value.language : "",
      task: value.task === "translate" ? "translate" : "transcribe",
      wordTimestamps: value.wordTimestamps === true,
      preciseTimestamps: value.preciseTimestamps === true,
    };
  } catch {
    return DEFAULT_UPLOAD_OPTIONS;
  }
}

export function UploadView() {
  useDocumentTitle("Upload");
  const { items, addFiles, cancelUpload, retryUpload, dismiss, clearFinished } = useUploads();
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

  const onFiles = useCallback((files: File[]) => addFiles(files, options), [addFiles, options]);

  const finishedCount = items.filter((item) => {
    if (item.phase === "rejected" || item.phase === "aborted") return true;
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
        <DropZone onFiles={onFiles} />
        <UploadOptionsForm value={options} onChange={changeOptions} />
      </section>

      <section className="uploads" aria-labelledby="uploads-heading">
        <div className="section-header">
          <h2 id="uploads-heading">
            Recent uploads
            {items.length > 0 ? <span className="count">{items.length}</span> : null}
          </h2>
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

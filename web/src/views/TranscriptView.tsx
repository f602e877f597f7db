import { useCallback, useEffect, useRef, useState } from "react";
import {
  ApiError,
  cancelTranscription,
  deleteTranscription,
  getTranscription,
  mediaUrl,
  retryTranscription,
  transcriptUrl,
} from "../api/client";
import { TRANSCRIPT_FORMATS, type Segment } from "../api/types";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { BackIcon, CopyIcon, DownloadIcon } from "../components/Icons";
import { Notice, Spinner } from "../components/Notice";
import { ProgressBar } from "../components/ProgressBar";
import { SegmentList, positionAt, type PlaybackPosition } from "../components/SegmentList";
import { StatusBadge } from "../components/StatusBadge";
import { copyText } from "../clipboard";
import { formatDate, formatDuration, formatPercent, languageName } from "../format";
import { Link, navigate } from "../router";
import { isTerminal, transcriptText } from "../state/jobs";
import { useJob, useJobsDispatch, useWatchJobs } from "../state/JobsProvider";
import { useUploads } from "../state/UploadsProvider";
import { useDocumentTitle } from "./useDocumentTitle";

type LoadState = { kind: "loading" } | { kind: "ready" } | { kind: "error"; error: ApiError };

type Action = "cancel" | "retry" | "delete";

function toApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, "unknown", String(error));
}

export function TranscriptView({ id }: { id: string }) {
  const job = useJob(id);
  const jobsDispatch = useJobsDispatch();
  const { forgetJob } = useUploads();
  const [load, setLoad] = useState<LoadState>({ kind: "loading" });
  const [reloadToken, setReloadToken] = useState(0);
  const [busy, setBusy] = useState<Action | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const [position, setPosition] = useState<PlaybackPosition>({ segment: null, word: null });
  const [mediaFailed, setMediaFailed] = useState(false);
  const [copied, setCopied] = useState<"done" | "failed" | null>(null);
  const media = useRef<HTMLMediaElement | null>(null);

  const filename = job?.info?.filename ?? "";
  useDocumentTitle(filename || "Transcript");

  useEffect(() => {
    const controller = new AbortController();
    setLoad({ kind: "loading" });
    getTranscription(id, controller.signal)
      .then((transcription) => {
        jobsDispatch({ type: "loaded", transcription });
        setLoad({ kind: "ready" });
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setLoad({ kind: "error", error: toApiError(error) });
      });
    return () => controller.abort();
  }, [id, reloadToken, jobsDispatch]);

  const running = job !== undefined && !isTerminal(job.status);
  useWatchJobs([id]);

  const segments = job?.segments ?? [];

  const onTimeUpdate = useCallback(() => {
    const element = media.current;
    if (!element) return;
    const next = positionAt(segments, element.currentTime);
    setPosition((current) => (current.segment === next.segment && current.word === next.word ? current : next));
  }, [segments]);

  const seek = useCallback((segment: Segment, at?: number) => {
    setPosition({ segment: segment.index, word: null });
    const element = media.current;
    if (!element) return;
    element.currentTime = at ?? segment.start;
    try {
      const playing = element.play();
      if (playing && typeof playing.catch === "function") playing.catch(() => undefined);
    } catch {
      // playback may be refused (no media yet, autoplay rules): the position is still set
    }
  }, []);

  const run = async (action: Action) => {
    setBusy(action);
    setActionError(null);
    try {
      if (action === "cancel") {
        const updated = await cancelTranscription(id);
        jobsDispatch({ type: "loaded", transcription: updated ?? (await getTranscription(id)) });
      } else if (action === "retry") {
        const updated = await retryTranscription(id);
        jobsDispatch({ type: "retried", transcription: updated ?? (await getTranscription(id)) });
        setPosition({ segment: null, word: null });
      } else {
        await deleteTranscription(id);
        setConfirmingDelete(false);
        forgetJob(id);
        jobsDispatch({ type: "removed", id });
        navigate("/library");
        return;
      }
    } catch (error) {
      const apiError = toApiError(error);
      setActionError(apiError.message);
      if (action === "delete") setConfirmingDelete(false);
    } finally {
      setBusy(null);
    }
  };

  const copy = async () => {
    const ok = await copyText(job ? transcriptText(job) : "");
    setCopied(ok ? "done" : "failed");
    window.setTimeout(() => setCopied(null), 2500);
  };

  const back = (
    <Link className="back-link" to="/library">
      <BackIcon size={16} /> Library
    </Link>
  );

  if (job?.deleted) {
    return (
      <div className="view view--transcript">
        {back}
        <h1 tabIndex={-1}>{filename || "Transcript"}</h1>
        <Notice
          tone="empty"
          title="This transcription was deleted."
          action={
            <Link className="button" to="/library">
              Go to the library
            </Link>
          }
        />
      </div>
    );
  }

  if (!job) {
    if (load.kind === "error") {
      const notFound = load.error.isNotFound;
      return (
        <div className="view view--transcript">
          {back}
          <h1 tabIndex={-1}>{notFound ? "Transcript not found" : "Transcript unavailable"}</h1>
          <Notice
            tone="error"
            title={notFound ? "There is no transcription with this address." : load.error.message}
            action={
              notFound ? (
                <Link className="button" to="/library">
                  Go to the library
                </Link>
              ) : (
                <button type="button" className="button" onClick={() => setReloadToken((n) => n + 1)}>
                  Try again
                </button>
              )
            }
          >
            {notFound ? "It may have been deleted." : null}
          </Notice>
        </div>
      );
    }
    return (
      <div className="view view--transcript">
        {back}
        <Spinner label="Loading transcript…" />
      </div>
    );
  }

  const info = job.info;
  const contentType = info?.content_type ?? "";
  const isVideo = info?.media_kind === "video" || contentType.startsWith("video/");
  const text = transcriptText(job);
  const canCancel = job.status === "queued" || job.status === "processing";
  const canRetry = job.status === "failed" || job.status === "cancelled";

  return (
    <div className="view view--transcript">
      {back}
      <header className="transcript__header">
        <div className="transcript__heading">
          <h1 tabIndex={-1} className="transcript__title">
            {filename || "Untitled"}
          </h1>
          <p className="transcript__meta">
            <StatusBadge status={job.status} />
            <span>{formatDuration(job.durationSeconds)}</span>
            {job.language ? <span>{languageName(job.language)}</span> : null}
            {info?.model ? <span>Model {info.model}</span> : null}
            {info ? <span>Timestamps: {info.precise_timestamps ? "precise" : "estimated within sentences"}</span> : null}
            {info?.created_at ? (
              <span>
                <time dateTime={info.created_at}>{formatDate(info.created_at)}</time>
              </span>
            ) : null}
          </p>
        </div>
        <div className="transcript__actions">
          {canCancel ? (
            <button type="button" className="button" onClick={() => void run("cancel")} disabled={busy !== null}>
              {busy === "cancel" ? "Cancelling…" : "Cancel"}
            </button>
          ) : null}
          {canRetry ? (
            <button type="button" className="button" onClick={() => void run("retry")} disabled={busy !== null}>
              {busy === "retry" ? "Retrying…" : "Retry"}
            </button>
          ) : null}
          <button
            type="button"
            className="button button--danger-quiet"
            onClick={() => setConfirmingDelete(true)}
            disabled={busy !== null}
          >
            Delete
          </button>
        </div>
      </header>

      {actionError ? (
        <div className="banner banner--error" role="alert">
          <span>{actionError}</span>
          <button type="button" className="icon-button" aria-label="Dismiss message" onClick={() => setActionError(null)}>
            ×
          </button>
        </div>
      ) : null}

      {load.kind === "error" ? (
        <div className="banner banner--error" role="alert">
          <span>Could not refresh this transcript: {load.error.message}</span>
        </div>
      ) : null}

      {running ? (
        <div className="transcript__progress" aria-live="polite">
          <div className="transcript__progress-label">
            <span>{job.status === "queued" ? "Waiting for a worker…" : "Transcribing — segments appear as they are recognised"}</span>
            {job.status === "processing" ? <span className="numeric">{formatPercent(job.progress)}</span> : null}
          </div>
          <ProgressBar value={job.status === "queued" ? null : job.progress} label="Transcription progress" />
        </div>
      ) : null}

      {job.status === "failed" ? (
        <Notice tone="error" title="Transcription failed">
          {job.error ? (
            <>
              {job.error.message} <span className="muted">({job.error.code})</span>
            </>
          ) : (
            "The job stopped with an error."
          )}
        </Notice>
      ) : null}

      {job.status === "cancelled" ? (
        <Notice title="Transcription cancelled">Retry to transcribe this file again.</Notice>
      ) : null}

      <div className="transcript__layout">
        <aside className="transcript__side" aria-label="Playback and downloads">
          <div className="player">
            {isVideo ? (
              <video
                ref={(element) => {
                  media.current = element;
                }}
                className="player__media player__media--video"
                controls
                playsInline
                preload="metadata"
                src={mediaUrl(id)}
                onTimeUpdate={onTimeUpdate}
                onSeeked={onTimeUpdate}
                onError={() => setMediaFailed(true)}
                aria-label={`Video: ${filename}`}
              />
            ) : (
              <audio
                ref={(element) => {
                  media.current = element;
                }}
                className="player__media"
                controls
                preload="metadata"
                src={mediaUrl(id)}
                onTimeUpdate={onTimeUpdate}
                onSeeked={onTimeUpdate}
                onError={() => setMediaFailed(true)}
                aria-label={`Audio: ${filename}`}
              />
            )}
            {mediaFailed ? <p className="small error-text">The original recording could not be loaded.</p> : null}
          </div>

          <div className="side-panel">
            <h2 className="side-panel__title">
              <DownloadIcon size={14} /> Download
            </h2>
            {job.status === "completed" ? (
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
            <button type="button" className="button button--quiet button--block" onClick={() => void copy()} disabled={!text}>
              <CopyIcon size={16} /> {copied === "done" ? "Copied" : "Copy text"}
            </button>
            <p className={copied === "failed" ? "small error-text" : "visually-hidden"} aria-live="polite">
              {copied === "done" ? "Transcript copied to the clipboard." : copied === "failed" ? "Copying is not available in this browser." : ""}
            </p>
          </div>
        </aside>

        <section className="transcript__body" aria-labelledby="segments-heading">
          <h2 id="segments-heading" className="visually-hidden">
            Transcript
          </h2>
          {segments.length > 0 ? (
            <SegmentList segments={segments} activeIndex={position.segment} activeWord={position.word} onSeek={seek} />
          ) : text ? (
            <p className="transcript__plain">{text}</p>
          ) : running ? (
            <Notice tone="empty" title="No text yet">
              The first segments appear here as soon as the worker recognises them.
            </Notice>
          ) : job.status === "completed" ? (
            <Notice tone="empty" title="No speech was recognised in this recording." />
          ) : (
            <Notice tone="empty" title="No transcript" />
          )}
        </section>
      </div>

      {confirmingDelete ? (
        <ConfirmDialog
          title="Delete this transcription?"
          confirmLabel="Delete"
          busy={busy === "delete"}
          onConfirm={() => void run("delete")}
          onCancel={() => setConfirmingDelete(false)}
        >
          <p>
            <strong>{filename}</strong>, its transcript and the uploaded recording are removed for good.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

// The transcript page: the player beside the timed segments, downloads and lifecycle actions.

import { jobText } from "../../state/jobs";
import { useJob, useWatchJobs } from "../../state/JobsProvider";
import { useDocumentTitle } from "../useDocumentTitle";
import { MediaPlayer } from "./MediaPlayer";
import { ActionError, DeleteDialog, TranscriptActionButtons } from "./TranscriptActions";
import { TranscriptBody } from "./TranscriptBody";
import { TranscriptDownloads } from "./TranscriptDownloads";
import { TranscriptHeading } from "./TranscriptHeading";
import { TranscriptProgress } from "./TranscriptProgress";
import { BackToLibrary, TranscriptDeleted, TranscriptLoadFailed, TranscriptLoading } from "./TranscriptUnavailable";
import { usePlayback } from "./usePlayback";
import { useTranscriptActions } from "./useTranscriptActions";
import { useTranscriptRecord } from "./useTranscriptRecord";

export function TranscriptView({ id }: { id: string }) {
  const job = useJob(id);
  const { load, reload } = useTranscriptRecord(id);
  useWatchJobs([id]);
  const playback = usePlayback(job?.segments ?? []);
  const actions = useTranscriptActions(id, playback.reset);

  const filename = job?.record.filename ?? "";
  useDocumentTitle(filename || "Transcript");

  if (job?.deleted) return <TranscriptDeleted filename={filename} />;
  if (!job) return load.kind === "error" ? <TranscriptLoadFailed error={load.error} onRetry={reload} /> : <TranscriptLoading />;

  const { record } = job;
  const text = jobText(job);

  return (
    <div className="view view--transcript">
      <BackToLibrary />
      <header className="transcript__header">
        <TranscriptHeading record={record} />
        <TranscriptActionButtons status={record.status} actions={actions} />
      </header>

      <ActionError actions={actions} />

      {load.kind === "error" ? (
        <div className="banner banner--error" role="alert">
          <span>Could not refresh this transcript: {load.error.message}</span>
        </div>
      ) : null}

      <TranscriptProgress record={record} />

      <div className="transcript__layout">
        <aside className="transcript__side" aria-label="Playback and downloads">
          <MediaPlayer id={id} record={record} mediaRef={playback.mediaRef} onTime={playback.sync} />
          <TranscriptDownloads id={id} completed={record.status === "completed"} text={text} />
        </aside>

        <TranscriptBody
          status={record.status}
          segments={job.segments}
          text={text}
          position={playback.position}
          onSeek={playback.seek}
        />
      </div>

      <DeleteDialog filename={filename} actions={actions} />
    </div>
  );
}

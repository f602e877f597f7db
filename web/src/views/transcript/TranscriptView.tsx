// The transcript page: the player beside the timed segments, downloads and lifecycle actions.

import { useState } from "react";
import "../../styles/transcript.css";
import { Notice } from "../../components/Notice";
import { jobText } from "../../state/jobs";
import { useJob, useWatchJobs } from "../../state/JobsProvider";
import { useDocumentTitle } from "../useDocumentTitle";
import { MediaPlayer } from "./MediaPlayer";
import { ActionError, DeleteDialog, TranscriptActionButtons } from "./TranscriptActions";
import { TranscriptBody } from "./TranscriptBody";
import { TranscriptDownloads } from "./TranscriptDownloads";
import { TranscriptHeading } from "./TranscriptHeading";
import { TranscriptProgress } from "./TranscriptProgress";
import { speakersErrorText } from "./speakers";
import { SpeakersPanel } from "./SpeakersPanel";
import { BackToLibrary, TranscriptDeleted, TranscriptLoadFailed, TranscriptLoading } from "./TranscriptUnavailable";
import { useEarlierRun } from "./useEarlierRun";
import { usePlayback } from "./usePlayback";
import { useSegmentEdits } from "./useSegmentEdits";
import { useTranscriptActions } from "./useTranscriptActions";
import { useTranscriptRecord } from "./useTranscriptRecord";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can be a transcription's id (a UUID); any other address is not found at once. */
export function isTranscriptionId(id: string): boolean {
  return UUID.test(id);
}

export function TranscriptView({ id }: { id: string }) {
  const job = useJob(id);
  const { load, reload } = useTranscriptRecord(id);
  useWatchJobs([id]);
  const playback = usePlayback(job?.segments ?? []);
  const actions = useTranscriptActions(id, playback.reset);
  const earlier = useEarlierRun(job);
  const edits = useSegmentEdits(id, job?.record.revision ?? null);
  const [editing, setEditing] = useState(false);

  const filename = job?.record.filename ?? "";
  const notFound = !job && load.kind === "error" && load.error.isNotFound;
  useDocumentTitle(notFound ? "Transcript not found" : filename || "Transcript");

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

      <TranscriptProgress record={record} keptText={earlier.length > 0} />

      {record.speakers_error ? (
        <Notice title={speakersErrorText(record.speakers_error)}>The transcript itself is complete.</Notice>
      ) : null}

      <div className="transcript__layout">
        <aside className="transcript__side" aria-label="Playback, downloads and speakers">
          <MediaPlayer id={id} record={record} playback={playback} />
          <TranscriptDownloads id={id} completed={record.status === "completed"} edited={record.edited === true} text={text} />
          {record.speakers && Object.keys(record.speakers).length > 0 ? <SpeakersPanel id={id} speakers={record.speakers} /> : null}
        </aside>

        <TranscriptBody
          status={record.status}
          segments={job.segments}
          text={text}
          position={playback.position}
          onSeek={playback.seek}
          speakers={record.speakers}
          earlier={earlier}
          editor={record.status === "completed" ? { edits, editing, setEditing } : null}
        />
      </div>

      <DeleteDialog filename={filename} actions={actions} />
    </div>
  );
}

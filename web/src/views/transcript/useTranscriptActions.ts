// Cancel, retry and delete of one transcription: the requests, what is running, what failed.

import { useCallback, useState } from "react";
import { cancelTranscription, deleteTranscription, getTranscription, retryTranscription } from "../../api/client";
import { navigate } from "../../router";
import { useJobsDispatch } from "../../state/JobsProvider";
import { useUploads } from "../../state/UploadsProvider";
import { toApiError } from "./useTranscriptRecord";

export type TranscriptAction = "cancel" | "retry" | "delete";

export interface TranscriptActions {
  /** The action waiting for the server, if any. */
  busy: TranscriptAction | null;
  /** The server's reason the last action was refused. */
  error: string | null;
  dismissError: () => void;
  confirmingDelete: boolean;
  askToDelete: () => void;
  keep: () => void;
  run: (action: TranscriptAction) => Promise<void>;
}

/** `onRetried` is called once the job is queued again (its new run starts from scratch). */
export function useTranscriptActions(id: string, onRetried: () => void): TranscriptActions {
  const jobsDispatch = useJobsDispatch();
  const { forgetJob } = useUploads();
  const [busy, setBusy] = useState<TranscriptAction | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmingDelete, setConfirmingDelete] = useState(false);

  const run = async (action: TranscriptAction) => {
    setBusy(action);
    setError(null);
    try {
      if (action === "cancel") {
        const updated = await cancelTranscription(id);
        jobsDispatch({ type: "loaded", transcription: updated ?? (await getTranscription(id)) });
      } else if (action === "retry") {
        const updated = await retryTranscription(id);
        jobsDispatch({ type: "retried", transcription: updated ?? (await getTranscription(id)) });
        onRetried();
      } else {
        await deleteTranscription(id);
        setConfirmingDelete(false);
        forgetJob(id);
        jobsDispatch({ type: "removed", id });
        navigate("/library");
        return;
      }
    } catch (caught) {
      setError(toApiError(caught).message);
      if (action === "delete") setConfirmingDelete(false);
    } finally {
      setBusy(null);
    }
  };

  const dismissError = useCallback(() => setError(null), []);
  const askToDelete = useCallback(() => setConfirmingDelete(true), []);
  const keep = useCallback(() => setConfirmingDelete(false), []);

  return { busy, error, dismissError, confirmingDelete, askToDelete, keep, run };
}

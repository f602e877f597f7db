// Reads one transcription (with its segments) into the jobs store, and again on request.

import { useCallback, useEffect, useState } from "react";
import { ApiError, getTranscription } from "../../api/client";
import { useJobsDispatch } from "../../state/JobsProvider";

export type LoadState = { kind: "loading" } | { kind: "ready" } | { kind: "error"; error: ApiError };

export function toApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, "unknown", String(error));
}

export function useTranscriptRecord(id: string): { load: LoadState; reload: () => void } {
  const jobsDispatch = useJobsDispatch();
  const [load, setLoad] = useState<LoadState>({ kind: "loading" });
  const [reloadToken, setReloadToken] = useState(0);

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

  const reload = useCallback(() => setReloadToken((n) => n + 1), []);
  return { load, reload };
}

// Runs the upload queue (a few files at a time, one request per file) and remembers accepted
// uploads in localStorage so their jobs are still shown after leaving and returning.

import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
  type ReactNode,
} from "react";
import { ApiError, getTranscription, uploadFile, type UploadHandle } from "../api/client";
import type { UploadOptions } from "../uploadOptions";
import { isTerminal } from "../status";
import { useJobs, useJobsDispatch, useWatchJobs } from "./JobsProvider";
import { useDoneSignals } from "./useDoneSignals";
import { parseStored, toStored, uploadsReducer, type NewUpload, type UploadItem } from "./uploads";

export const MAX_PARALLEL_UPLOADS = 3;
export const UPLOADS_STORAGE_KEY = "soundscripter.uploads.v1";
const RESTORE_CONCURRENCY = 4;
const EMPTY_FILE_ERROR = { code: "empty_file", message: "This file is empty (0 bytes): there is nothing to transcribe." };
const RESTORE_ATTEMPTS = 5;
const RESTORE_RETRY_MS = 3000;

interface UploadsContextValue {
  items: readonly UploadItem[];
  /** Adds a batch of files; returns their rows' keys (empty files are refused at once). */
  addFiles: (files: readonly File[], options: UploadOptions) => string[];
  cancelUpload: (key: string) => void;
  retryUpload: (key: string) => void;
  dismiss: (key: string) => void;
  clearFinished: () => void;
  forgetJob: (jobId: string) => void;
  /** Desktop notifications per finished batch (opt-in). */
  notify: boolean;
  setNotifications: (on: boolean) => Promise<void>;
}

const UploadsContext = createContext<UploadsContextValue | null>(null);

export interface UploadsProviderProps {
  children: ReactNode;
  upload?: typeof uploadFile;
  loadTranscription?: typeof getTranscription;
  storage?: Storage | null;
}

let keyCounter = 0;
function newKey(): string {
  keyCounter += 1;
  return `upload-${Date.now().toString(36)}-${keyCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

function defaultStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function UploadsProvider({
  children,
  upload = uploadFile,
  loadTranscription = getTranscription,
  storage = defaultStorage(),
}: UploadsProviderProps) {
  const [items, dispatch] = useReducer(uploadsReducer, []);
  const [restored, setRestored] = useState(false);
  const files = useRef(new Map<string, File>());
  const handles = useRef(new Map<string, UploadHandle>());
  const jobs = useJobs();
  const jobsDispatch = useJobsDispatch();

  // Bring back the uploads accepted before the page was left, and read their jobs' state.
  useEffect(() => {
    const stored = parseStored(storage?.getItem(UPLOADS_STORAGE_KEY) ?? null);
    if (stored.length > 0) dispatch({ type: "restored", stored });
    setRestored(true);
    let stopped = false;
    const timers: ReturnType<typeof setTimeout>[] = [];
    const queue = stored.flatMap((entry) => (entry.jobId ? [{ jobId: entry.jobId, attempt: 0 }] : []));
    const next = async (): Promise<void> => {
      const entry = queue.shift();
      if (!entry || stopped) return;
      try {
        const transcription = await loadTranscription(entry.jobId);
        if (!stopped) jobsDispatch({ type: "loaded", transcription });
      } catch (error) {
        if (stopped) return;
        if (error instanceof ApiError && error.isNotFound) {
          dispatch({ type: "jobRemoved", jobId: entry.jobId });
        } else if (entry.attempt + 1 < RESTORE_ATTEMPTS) {
          // The server may be starting or briefly away: ask again a little later.
          timers.push(
            setTimeout(() => {
              queue.push({ jobId: entry.jobId, attempt: entry.attempt + 1 });
              void next();
            }, RESTORE_RETRY_MS * (entry.attempt + 1)),
          );
        }
      }
      return next();
    };
    for (let i = 0; i < RESTORE_CONCURRENCY; i += 1) void next();
    return () => {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
    };
  }, [storage, loadTranscription, jobsDispatch]);

  useEffect(() => {
    if (!restored || !storage) return;
    try {
      storage.setItem(UPLOADS_STORAGE_KEY, JSON.stringify(toStored(items)));
    } catch {
      // storage full or disabled: following jobs after a reload is a convenience
    }
  }, [items, restored, storage]);

  useWatchJobs(items.flatMap((item) => (item.jobId ? [item.jobId] : [])));

  // Leaving while bytes are being sent loses them: the browser asks first.
  const sending = items.some((item) => item.phase === "uploading" || item.phase === "waiting");
  useEffect(() => {
    if (!sending) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [sending]);

  const start = useCallback(
    (item: UploadItem) => {
      const file = files.current.get(item.key);
      if (!file || handles.current.has(item.key)) return;
      dispatch({ type: "started", key: item.key });
      const handle = upload(file, item.options, (loaded, total) =>
        dispatch({ type: "progressed", key: item.key, loaded, total }),
      );
      handles.current.set(item.key, handle);
      void handle.result.then((outcome) => {
        handles.current.delete(item.key);
        if (outcome.kind === "accepted") {
          files.current.delete(item.key);
          jobsDispatch({ type: "loaded", transcription: outcome.transcription });
        } else if (outcome.kind === "rejected") {
          files.current.delete(item.key);
        }
        dispatch({ type: "finished", key: item.key, outcome });
      });
    },
    [upload, jobsDispatch],
  );

  // Start waiting files in list order while fewer than MAX_PARALLEL_UPLOADS are in flight.
  useEffect(() => {
    const free = MAX_PARALLEL_UPLOADS - handles.current.size;
    if (free <= 0) return;
    const waiting = items.filter((item) => item.phase === "waiting" && !handles.current.has(item.key));
    for (const item of waiting.slice(0, free)) start(item);
  }, [items, start]);

  useEffect(() => {
    const inFlight = handles.current;
    return () => {
      for (const handle of inFlight.values()) handle.abort();
    };
  }, []);

  const addFiles = useCallback((added: readonly File[], options: UploadOptions) => {
    if (added.length === 0) return [];
    const now = Date.now();
    const batch = newKey();
    const uploads = added.map((file, position): NewUpload => {
      const key = newKey();
      // The list is newest first; files of one pick keep their order within it.
      const upload = { key, filename: file.name, size: file.size, options: { ...options }, addedAt: now - position, batch };
      if (file.size === 0) return { ...upload, error: EMPTY_FILE_ERROR };
      files.current.set(key, file);
      return upload;
    });
    dispatch({ type: "added", uploads });
    return uploads.map((upload) => upload.key);
  }, []);

  const cancelUpload = useCallback((key: string) => {
    const handle = handles.current.get(key);
    if (handle) handle.abort();
    else dispatch({ type: "finished", key, outcome: { kind: "aborted" } });
  }, []);

  const retryUpload = useCallback((key: string) => {
    if (files.current.has(key)) dispatch({ type: "requeued", key });
  }, []);

  const dismiss = useCallback((key: string) => {
    handles.current.get(key)?.abort();
    files.current.delete(key);
    dispatch({ type: "dismissed", key });
  }, []);

  const forgetJob = useCallback((jobId: string) => dispatch({ type: "jobRemoved", jobId }), []);

  const clearFinished = useCallback(() => {
    const finished = Object.values(jobs)
      .filter((job) => isTerminal(job.record.status))
      .map((job) => job.id);
    dispatch({ type: "clearedDone", finishedJobIds: finished });
  }, [jobs]);

  const { notify, setNotifications } = useDoneSignals(items, jobs);

  const value = useMemo(
    () => ({ items, addFiles, cancelUpload, retryUpload, dismiss, clearFinished, forgetJob, notify, setNotifications }),
    [items, addFiles, cancelUpload, retryUpload, dismiss, clearFinished, forgetJob, notify, setNotifications],
  );
  return <UploadsContext.Provider value={value}>{children}</UploadsContext.Provider>;
}

export function useUploads(): UploadsContextValue {
  const value = useContext(UploadsContext);
  if (!value) throw new Error("UploadsProvider is missing");
  return value;
}

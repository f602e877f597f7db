// Holds the state of every job the UI knows about and follows the running ones through the
// one multiplexed event stream. Views say which jobs they show with `useWatchJobs`.

import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
  type Dispatch,
  type ReactNode,
} from "react";
import { getTranscription, openEventSource, type StreamPositions } from "../api/client";
import { isTerminal } from "../status";
import { jobsReducer, type JobsAction, type JobState, type JobsState } from "./jobs";
import { JobEventStream, type ConnectionState } from "./eventStream";

interface JobsContextValue {
  jobs: JobsState;
  dispatch: Dispatch<JobsAction>;
  connection: ConnectionState;
  watch: (ids: readonly string[]) => () => void;
}

const POLL_INTERVAL_MS = 5000;
const POLL_LIMIT = 20;

const JobsContext = createContext<JobsContextValue | null>(null);

export interface JobsProviderProps {
  children: ReactNode;
  openStream?: (ids: readonly string[], since: StreamPositions | null) => EventSource;
  loadTranscription?: typeof getTranscription;
}

export function JobsProvider({
  children,
  openStream = openEventSource,
  loadTranscription = getTranscription,
}: JobsProviderProps) {
  const [jobs, dispatch] = useReducer(jobsReducer, {});
  const [watched, setWatched] = useState<ReadonlyMap<string, number>>(() => new Map());
  const [connection, setConnection] = useState<ConnectionState>("idle");
  const stream = useRef<JobEventStream | null>(null);
  const latest = useRef(jobs);
  useEffect(() => {
    latest.current = jobs;
  }, [jobs]);

  useEffect(() => {
    const created = new JobEventStream({
      open: openStream,
      positions: () => {
        const positions: Record<string, number> = {};
        for (const job of Object.values(latest.current)) positions[job.id] = job.lastSeq;
        return positions;
      },
      onEvent: (event) => dispatch({ type: "event", event }),
      onState: setConnection,
    });
    stream.current = created;
    return () => {
      created.close();
      if (stream.current === created) stream.current = null;
    };
  }, [openStream]);

  const activeKey = useMemo(
    () =>
      [...watched.keys()]
        .filter((id) => {
          const job = jobs[id];
          return job !== undefined && !isTerminal(job.record.status);
        })
        .sort()
        .join(","),
    [watched, jobs],
  );

  useEffect(() => {
    stream.current?.setIds(activeKey ? activeKey.split(",") : []);
  }, [activeKey, openStream]);

  // A job that just ended is read once more from the API for its final text, language, duration.
  const refreshed = useRef(new Set<string>());
  useEffect(() => {
    for (const id of watched.keys()) {
      const job = jobs[id];
      if (!job || !isTerminal(job.record.status) || job.settled || job.deleted) continue;
      const attempt = `${id}@${job.lastSeq}`;
      if (refreshed.current.has(attempt)) continue;
      refreshed.current.add(attempt);
      loadTranscription(id)
        .then((transcription) => dispatch({ type: "loaded", transcription }))
        .catch(() => undefined);
    }
  }, [watched, jobs, loadTranscription]);

  // While the stream is down, read the followed jobs now and then so the page does not freeze.
  useEffect(() => {
    if (connection !== "reconnecting" || !activeKey) return undefined;
    const ids = activeKey.split(",").slice(0, POLL_LIMIT);
    const timer = window.setInterval(() => {
      for (const id of ids) {
        loadTranscription(id)
          .then((transcription) => dispatch({ type: "loaded", transcription }))
          .catch(() => undefined);
      }
    }, POLL_INTERVAL_MS);
    return () => window.clearInterval(timer);
  }, [connection, activeKey, loadTranscription]);

  const watch = useCallback((ids: readonly string[]) => {
    setWatched((previous) => {
      const next = new Map(previous);
      for (const id of ids) next.set(id, (next.get(id) ?? 0) + 1);
      return next;
    });
    return () =>
      setWatched((previous) => {
        const next = new Map(previous);
        for (const id of ids) {
          const count = (next.get(id) ?? 0) - 1;
          if (count > 0) next.set(id, count);
          else next.delete(id);
        }
        return next;
      });
  }, []);

  const value = useMemo(() => ({ jobs, dispatch, connection, watch }), [jobs, connection, watch]);
  return <JobsContext.Provider value={value}>{children}</JobsContext.Provider>;
}

function useJobsContext(): JobsContextValue {
  const value = useContext(JobsContext);
  if (!value) throw new Error("JobsProvider is missing");
  return value;
}

export function useJobs(): JobsState {
  return useJobsContext().jobs;
}

export function useJob(id: string | null | undefined): JobState | undefined {
  const jobs = useJobsContext().jobs;
  return id ? jobs[id] : undefined;
}

export function useJobsDispatch(): Dispatch<JobsAction> {
  return useJobsContext().dispatch;
}

export function useConnectionState(): ConnectionState {
  return useJobsContext().connection;
}

/** Follows these jobs live while the calling component is shown (the stream carries the running ones). */
export function useWatchJobs(ids: readonly string[]): void {
  const { watch } = useJobsContext();
  const key = [...new Set(ids)].sort().join(",");
  useEffect(() => {
    if (!key) return undefined;
    return watch(key.split(","));
  }, [key, watch]);
}

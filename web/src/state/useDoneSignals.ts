// Telling the user that work is done while they look elsewhere:
// - the tab title counts the jobs that finished (completed or failed) while the page was out
//   of sight (hidden or without focus), until it is looked at again;
// - with desktop notifications turned on (opt-in, the browser asks), one notification per
//   batch of files added together, once every file of it has finished.

import { useCallback, useEffect, useRef, useState } from "react";
import { setDoneCount } from "../documentTitle";
import { isTerminal } from "../status";
import type { JobsState } from "./jobs";
import type { UploadItem } from "./uploads";

export const NOTIFY_STORAGE_KEY = "soundscripter.notifyBatches.v1";

function away(): boolean {
  return document.visibilityState === "hidden" || !document.hasFocus();
}

function finishedJobIds(items: readonly UploadItem[], jobs: JobsState): string[] {
  return items.flatMap((item) => {
    const job = item.jobId ? jobs[item.jobId] : undefined;
    const status = job?.record.status;
    return job && !job.deleted && (status === "completed" || status === "failed") ? [job.id] : [];
  });
}

/** The batches whose every file is done (at least one transcribed), with their figures. */
function finishedBatches(items: readonly UploadItem[], jobs: JobsState) {
  const batches = new Map<string, UploadItem[]>();
  for (const item of items) {
    if (item.batch) batches.set(item.batch, [...(batches.get(item.batch) ?? []), item]);
  }
  const done: { batch: string; completed: number; failed: number; names: string[] }[] = [];
  for (const [batch, members] of batches) {
    let completed = 0;
    let failed = 0;
    let open = false;
    for (const item of members) {
      const status = item.jobId ? jobs[item.jobId]?.record.status : undefined;
      if (item.phase === "waiting" || item.phase === "uploading") open = true;
      else if (item.phase === "accepted") {
        if (!status || !isTerminal(status)) open = true;
        else if (status === "completed") completed += 1;
        else failed += 1;
      } else failed += 1;
    }
    if (!open && completed > 0) done.push({ batch, completed, failed, names: members.map((item) => item.filename) });
  }
  return done;
}

export function notificationsSupported(): boolean {
  return typeof window !== "undefined" && "Notification" in window;
}

export function useDoneSignals(items: readonly UploadItem[], jobs: JobsState) {
  const seen = useRef<Set<string> | null>(null);
  const [unseen, setUnseen] = useState<ReadonlySet<string>>(new Set());
  const notified = useRef(new Set<string>());
  const [notify, setNotify] = useState<boolean>(() => {
    try {
      return notificationsSupported() && Notification.permission === "granted" && localStorage.getItem(NOTIFY_STORAGE_KEY) === "on";
    } catch {
      return false;
    }
  });

  // Jobs that reach the end while the page is out of sight are counted in the title.
  useEffect(() => {
    const finished = finishedJobIds(items, jobs);
    if (seen.current === null) {
      seen.current = new Set(finished); // what was done before this page load is no news
      return;
    }
    const fresh = finished.filter((id) => !seen.current!.has(id));
    for (const id of fresh) seen.current.add(id);
    if (fresh.length > 0 && away()) setUnseen((previous) => new Set([...previous, ...fresh]));
  }, [items, jobs]);

  useEffect(() => {
    const back = () => {
      if (!away()) setUnseen(new Set());
    };
    document.addEventListener("visibilitychange", back);
    window.addEventListener("focus", back);
    return () => {
      document.removeEventListener("visibilitychange", back);
      window.removeEventListener("focus", back);
    };
  }, []);

  useEffect(() => setDoneCount(unseen.size), [unseen]);
  useEffect(() => () => setDoneCount(0), []);

  useEffect(() => {
    for (const done of finishedBatches(items, jobs)) {
      if (notified.current.has(done.batch)) continue;
      notified.current.add(done.batch);
      if (!notify || !notificationsSupported() || Notification.permission !== "granted") continue;
      const files = done.completed + done.failed;
      const title = files === 1 ? "Transcription done" : `${files} files done`;
      const failed = done.failed > 0 ? `, ${done.failed} not transcribed` : "";
      const body = `${done.completed} transcribed${failed}: ${done.names.slice(0, 3).join(", ")}${done.names.length > 3 ? ", …" : ""}`;
      try {
        new Notification(title, { body, tag: `soundscripter-${done.batch}` });
      } catch {
        // some browsers allow notifications from a service worker only
      }
    }
  }, [items, jobs, notify]);

  const setNotifications = useCallback(async (on: boolean): Promise<void> => {
    if (on && notificationsSupported() && Notification.permission !== "granted") {
      const answer = await Notification.requestPermission();
      if (answer !== "granted") on = false;
    }
    setNotify(on);
    try {
      localStorage.setItem(NOTIFY_STORAGE_KEY, on ? "on" : "off");
    } catch {
      // remembering the choice is a convenience
    }
  }, []);

  return { notify, setNotifications };
}

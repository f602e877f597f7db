// The upload list: one row per file the user added, from waiting to accepted or rejected.
// Pure functions only; the File objects themselves are kept beside this state, by `key`.

import type { ErrorInfo } from "../api/types";
import { DEFAULT_UPLOAD_OPTIONS, type UploadOptions } from "../uploadOptions";
import type { UploadOutcome } from "../api/client";

export type UploadPhase =
  /** waiting for a free upload slot */
  | "waiting"
  | "uploading"
  /** the server took the file: a transcription job exists (`jobId`) */
  | "accepted"
  /** the server refused the file itself (wrong type, too large, undecodable, …) */
  | "rejected"
  /** the request did not go through (network, server error); may be tried again */
  | "failed"
  /** stopped by the user before it finished */
  | "aborted"
  /** was waiting or being sent when the page was left: the file must be chosen again */
  | "interrupted";

export interface UploadItem {
  key: string;
  filename: string;
  size: number;
  /** Bytes of the request body sent so far, and the body's total size. */
  loaded: number;
  total: number;
  phase: UploadPhase;
  options: UploadOptions;
  jobId: string | null;
  error: ErrorInfo | null;
  addedAt: number;
  /** The files added together share a batch (one notification when all are done). */
  batch: string | null;
}

export interface NewUpload {
  key: string;
  filename: string;
  size: number;
  options: UploadOptions;
  addedAt: number;
  batch: string;
  /** Refused in the browser already (an empty file): the row starts rejected. */
  error?: ErrorInfo;
}

/**
 * What is kept across page loads: accepted uploads, so their jobs can be followed again, and
 * the rows that need the user's eye until dismissed (refused files, uploads the leaving
 * interrupted). Entries of older versions have a `jobId` and no `phase`.
 */
export interface StoredUpload {
  jobId: string | null;
  filename: string;
  size: number;
  addedAt: number;
  phase?: "accepted" | "rejected" | "interrupted";
  key?: string;
  error?: ErrorInfo | null;
}

export const INTERRUPTED_MESSAGE = "Upload interrupted — choose the file again.";

export type UploadsAction =
  | { type: "added"; uploads: NewUpload[] }
  | { type: "started"; key: string }
  | { type: "progressed"; key: string; loaded: number; total: number }
  | { type: "finished"; key: string; outcome: UploadOutcome }
  | { type: "requeued"; key: string }
  | { type: "dismissed"; key: string }
  | { type: "jobRemoved"; jobId: string }
  | { type: "clearedDone"; finishedJobIds: readonly string[] }
  | { type: "restored"; stored: StoredUpload[] };

export type UploadsState = readonly UploadItem[];

function update(state: UploadsState, key: string, change: (item: UploadItem) => UploadItem): UploadsState {
  let touched = false;
  const next = state.map((item) => {
    if (item.key !== key) return item;
    const changed = change(item);
    if (changed !== item) touched = true;
    return changed;
  });
  return touched ? next : state;
}

export function uploadsReducer(state: UploadsState, action: UploadsAction): UploadsState {
  switch (action.type) {
    case "added":
      return [
        ...action.uploads.map<UploadItem>((upload) => ({
          ...upload,
          loaded: 0,
          total: upload.size,
          phase: upload.error ? "rejected" : "waiting",
          jobId: null,
          error: upload.error ?? null,
        })),
        ...state,
      ];
    case "started":
      return update(state, action.key, (item) =>
        item.phase === "waiting" ? { ...item, phase: "uploading", loaded: 0, error: null } : item,
      );
    case "progressed":
      return update(state, action.key, (item) =>
        item.phase === "uploading" && action.loaded >= item.loaded
          ? { ...item, loaded: action.loaded, total: Math.max(action.total, action.loaded, 1) }
          : item,
      );
    case "finished":
      return update(state, action.key, (item) => {
        if (item.phase !== "uploading" && item.phase !== "waiting") return item;
        const outcome = action.outcome;
        switch (outcome.kind) {
          case "accepted":
            return {
              ...item,
              phase: "accepted",
              loaded: item.total,
              jobId: outcome.transcription.id,
              error: null,
            };
          case "rejected":
            return { ...item, phase: "rejected", error: outcome.error };
          case "failed":
            return { ...item, phase: "failed", error: outcome.error };
          case "aborted":
            return { ...item, phase: "aborted", error: null };
        }
      });
    case "requeued":
      return update(state, action.key, (item) =>
        item.phase === "failed" || item.phase === "aborted"
          ? { ...item, phase: "waiting", loaded: 0, error: null }
          : item,
      );
    case "dismissed":
      return state.filter((item) => item.key !== action.key);
    case "jobRemoved":
      return state.filter((item) => item.jobId !== action.jobId);
    case "clearedDone": {
      const finished = new Set(action.finishedJobIds);
      return state.filter((item) => {
        if (item.phase === "rejected" || item.phase === "aborted" || item.phase === "interrupted") return false;
        return !(item.phase === "accepted" && item.jobId !== null && finished.has(item.jobId));
      });
    }
    case "restored": {
      const known = new Set(state.flatMap((item) => [item.key, ...(item.jobId ? [`job:${item.jobId}`] : [])]));
      const restored = action.stored
        .map<UploadItem>((stored) => {
          const phase = stored.jobId ? "accepted" : (stored.phase ?? "interrupted");
          return {
            key: stored.jobId ? `job:${stored.jobId}` : (stored.key ?? `stored:${stored.addedAt}:${stored.filename}`),
            filename: stored.filename,
            size: stored.size,
            loaded: phase === "accepted" ? stored.size : 0,
            total: Math.max(stored.size, 1),
            phase,
            options: { ...DEFAULT_UPLOAD_OPTIONS },
            jobId: stored.jobId,
            error: phase === "interrupted" ? { code: "interrupted", message: INTERRUPTED_MESSAGE } : (stored.error ?? null),
            addedAt: stored.addedAt,
            batch: null,
          };
        })
        .filter((item) => !known.has(item.key));
      return [...state, ...restored].sort((a, b) => b.addedAt - a.addedAt);
    }
  }
}

export const STORED_UPLOADS_LIMIT = 100;

/** The rows to remember, newest first: accepted uploads, refused files, and every upload not
 * finished yet (waiting, being sent, failed or stopped), which a reload interrupts. */
export function toStored(state: UploadsState): StoredUpload[] {
  return state
    .map((item): StoredUpload => {
      const kept = { filename: item.filename, size: item.size, addedAt: item.addedAt };
      if (item.phase === "accepted" && item.jobId) return { ...kept, jobId: item.jobId, phase: "accepted" };
      if (item.phase === "rejected") return { ...kept, jobId: null, phase: "rejected", key: item.key, error: item.error };
      return { ...kept, jobId: null, phase: "interrupted", key: item.key };
    })
    .slice(0, STORED_UPLOADS_LIMIT);
}

export function parseStored(raw: string | null): StoredUpload[] {
  if (!raw) return [];
  try {
    const value: unknown = JSON.parse(raw);
    if (!Array.isArray(value)) return [];
    return value.filter(
      (entry): entry is StoredUpload =>
        typeof entry === "object" &&
        entry !== null &&
        (typeof entry.jobId === "string" || (entry.jobId === null && typeof entry.key === "string")) &&
        typeof entry.filename === "string" &&
        typeof entry.size === "number" &&
        typeof entry.addedAt === "number" &&
        (entry.error === undefined || entry.error === null || typeof entry.error?.message === "string"),
    );
  } catch {
    return [];
  }
}

export function uploadFraction(item: Pick<UploadItem, "loaded" | "total">): number {
  if (item.total <= 0) return 0;
  return Math.min(1, item.loaded / item.total);
}

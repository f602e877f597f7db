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
  | "aborted";

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
}

export interface NewUpload {
  key: string;
  filename: string;
  size: number;
  options: UploadOptions;
  addedAt: number;
}

/** What is kept across page loads: accepted uploads, so their jobs can be followed again. */
export interface StoredUpload {
  jobId: string;
  filename: string;
  size: number;
  addedAt: number;
}

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
          phase: "waiting",
          jobId: null,
          error: null,
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
        if (item.phase === "rejected" || item.phase === "aborted") return false;
        return !(item.phase === "accepted" && item.jobId !== null && finished.has(item.jobId));
      });
    }
    case "restored": {
      const known = new Set(state.map((item) => item.jobId).filter(Boolean));
      const restored = action.stored
        .filter((stored) => !known.has(stored.jobId))
        .map<UploadItem>((stored) => ({
          key: `job:${stored.jobId}`,
          filename: stored.filename,
          size: stored.size,
          loaded: stored.size,
          total: Math.max(stored.size, 1),
          phase: "accepted",
          options: { ...DEFAULT_UPLOAD_OPTIONS },
          jobId: stored.jobId,
          error: null,
          addedAt: stored.addedAt,
        }));
      return [...state, ...restored].sort((a, b) => b.addedAt - a.addedAt);
    }
  }
}

export const STORED_UPLOADS_LIMIT = 100;

/** The accepted uploads to remember, newest first. */
export function toStored(state: UploadsState): StoredUpload[] {
  return state
    .filter((item): item is UploadItem & { jobId: string } => item.phase === "accepted" && item.jobId !== null)
    .map((item) => ({ jobId: item.jobId, filename: item.filename, size: item.size, addedAt: item.addedAt }))
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
        typeof entry.jobId === "string" &&
        typeof entry.filename === "string" &&
        typeof entry.size === "number" &&
        typeof entry.addedAt === "number",
    );
  } catch {
    return [];
  }
}

export function uploadFraction(item: Pick<UploadItem, "loaded" | "total">): number {
  if (item.total <= 0) return 0;
  return Math.min(1, item.loaded / item.total);
}

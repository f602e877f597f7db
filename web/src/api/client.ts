// The one place that talks HTTP to the SoundScripter API.
//
// Every request goes through `apiUrl` and `requestHeaders`, so authentication (an
// `Authorization: Bearer` header, see ./auth) is added here without touching the views.

import type {
  ErrorInfo,
  BulkAction,
  BulkResults,
  ListQuery,
  ModelList,
  TranscriptFormat,
  TranscriptionDetail,
  TranscriptionChanges,
  TranscriptionPage,
  TranscriptionSummary,
  UploadForm,
  UploadLimits,
  UploadResponse,
} from "./types";
import type { UploadOptions } from "../uploadOptions";
import { authHeaders, currentSessionToken, UNAUTHORIZED_EVENT } from "./auth";

function normalizeBase(raw: string | undefined): string {
  return (raw ?? "").trim().replace(/\/+$/, "");
}

export const API_BASE = normalizeBase(import.meta.env.VITE_API_BASE_URL as string | undefined);

type Params = Record<string, string | number | undefined | null>;

export function apiUrl(path: string, params?: Params): string {
  let url = `${API_BASE}${path}`;
  if (params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
    }
    const query = search.toString();
    if (query) url += `?${query}`;
  }
  return url;
}

/** Headers sent with every API request. */
export function requestHeaders(): Record<string, string> {
  return { Accept: "application/json", ...authHeaders() };
}

/**
 * URL the browser fetches by itself (EventSource, <audio>, download links), which cannot carry
 * the Authorization header: the session cookie covers the same origin; an API on another
 * origin gets the session token as `?token=`.
 */
export function browserUrl(path: string, params?: Params): string {
  const token = API_BASE ? currentSessionToken() : null;
  return apiUrl(path, token ? { ...params, token } : params);
}

/** An API failure: `status` 0 means the server could not be reached. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }

  get isNetwork(): boolean {
    return this.status === 0;
  }
}

const STATUS_MESSAGES: Record<number, string> = {
  400: "The request was not accepted.",
  404: "Not found.",
  409: "That action is not possible in the job's current state.",
  413: "The file is larger than the server accepts.",
  415: "This file type is not supported.",
  422: "The request was not valid.",
  429: "Too many requests; try again shortly.",
  502: "The server is unavailable (bad gateway).",
  503: "The server is temporarily unavailable.",
  504: "The server took too long to answer.",
};

function isErrorInfo(value: unknown): value is ErrorInfo {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as ErrorInfo).message === "string"
  );
}

/** Builds an ApiError from a non-2xx response body (`{"error": {"code", "message"}}` if present). */
export function errorFromResponse(status: number, bodyText: string): ApiError {
  let code = `http_${status}`;
  let message = STATUS_MESSAGES[status] ?? `The server answered with HTTP ${status}.`;
  try {
    const body: unknown = JSON.parse(bodyText);
    const error = (body as { error?: unknown }).error;
    if (isErrorInfo(error)) {
      message = error.message;
      if (typeof error.code === "string" && error.code) code = error.code;
    } else if (typeof (body as { detail?: unknown }).detail === "string") {
      message = (body as { detail: string }).detail;
    }
  } catch {
    // not JSON: keep the generic message for this status
  }
  return new ApiError(status, code, message);
}

export const NETWORK_ERROR_MESSAGE = "Could not reach the SoundScripter server. Check that it is running.";

async function request<T>(method: string, path: string, params?: Params, signal?: AbortSignal, body?: unknown): Promise<T> {
  let response: Response;
  const json = body === undefined ? {} : { body: JSON.stringify(body) };
  const headers = body === undefined ? requestHeaders() : { ...requestHeaders(), "Content-Type": "application/json" };
  try {
    response = await fetch(apiUrl(path, params), { method, headers, signal, ...json });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", NETWORK_ERROR_MESSAGE);
  }
  const text = await response.text();
  if (response.status === 401) window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
  if (!response.ok) throw errorFromResponse(response.status, text);
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(response.status, "bad_response", "The server sent a response that is not JSON.");
  }
}

export type { ListQuery };

export function listTranscriptions(query: ListQuery, signal?: AbortSignal): Promise<TranscriptionPage> {
  return request<TranscriptionPage>("GET", "/api/transcriptions", { ...query }, signal);
}

export function getTranscription(id: string, signal?: AbortSignal): Promise<TranscriptionDetail> {
  return request<TranscriptionDetail>("GET", `/api/transcriptions/${encodeURIComponent(id)}`, undefined, signal);
}

export function listModels(signal?: AbortSignal): Promise<ModelList> {
  return request<ModelList>("GET", "/api/models", undefined, signal);
}

export function getLimits(signal?: AbortSignal): Promise<UploadLimits> {
  return request<UploadLimits>("GET", "/api/limits", undefined, signal);
}

/** Deletes, cancels or retries many transcriptions; one result per id. */
export function bulkAction(action: BulkAction["action"], ids: readonly string[]): Promise<BulkResults> {
  return request<BulkResults>("POST", "/api/transcriptions/bulk", undefined, undefined, { action, ids: [...ids] });
}

/** A zip of the transcripts of `ids` in `format`, one file per transcription. */
export function exportUrl(ids: readonly string[], format: TranscriptFormat): string {
  return browserUrl("/api/transcriptions/export", { ids: ids.join(","), format });
}

export function cancelTranscription(id: string): Promise<TranscriptionSummary | undefined> {
  return request<TranscriptionSummary | undefined>("POST", `/api/transcriptions/${encodeURIComponent(id)}/cancel`);
}

export function retryTranscription(id: string): Promise<TranscriptionSummary | undefined> {
  return request<TranscriptionSummary | undefined>("POST", `/api/transcriptions/${encodeURIComponent(id)}/retry`);
}

export function deleteTranscription(id: string): Promise<void> {
  return request<void>("DELETE", `/api/transcriptions/${encodeURIComponent(id)}`);
}

/** Renames speakers (`{"S1": "Alice"}`; an empty name gives back the id). */
export function changeTranscription(id: string, changes: TranscriptionChanges): Promise<TranscriptionSummary> {
  return request<TranscriptionSummary>("PATCH", `/api/transcriptions/${encodeURIComponent(id)}`, undefined, undefined, changes);
}

export function transcriptUrl(id: string, format: TranscriptFormat): string {
  return browserUrl(`/api/transcriptions/${encodeURIComponent(id)}/transcript`, { format });
}

export function mediaUrl(id: string): string {
  return browserUrl(`/api/transcriptions/${encodeURIComponent(id)}/audio`);
}

/** Positions already known per job (`seq`), so a stream starts after them. */
export type StreamPositions = Readonly<Record<string, number>>;

/** URL of the one multiplexed event stream for `ids`. */
export function eventsUrl(ids: readonly string[], since?: StreamPositions | null): string {
  const positions = since
    ? ids.flatMap((id) => {
        const seq = since[id];
        return typeof seq === "number" && seq > 0 ? [`${id}:${seq}`] : [];
      })
    : [];
  return browserUrl("/api/events", { ids: ids.join(","), since: positions.join(",") });
}

export function openEventSource(ids: readonly string[], since?: StreamPositions | null): EventSource {
  return new EventSource(eventsUrl(ids, since));
}

// ---------------------------------------------------------------- uploads

export type UploadOutcome =
  | { kind: "accepted"; transcription: TranscriptionSummary }
  | { kind: "rejected"; error: ErrorInfo }
  | { kind: "failed"; error: ErrorInfo }
  | { kind: "aborted" };

/**
 * Reads the answer to a one-file `POST /api/transcriptions`.
 * `rejected` is final (the file itself is refused); `failed` may succeed if tried again.
 */
export function interpretUploadResponse(status: number, bodyText: string): UploadOutcome {
  if (status === 0) return { kind: "failed", error: { code: "network_error", message: NETWORK_ERROR_MESSAGE } };
  if (status >= 200 && status < 300) {
    let body: Partial<UploadResponse>;
    try {
      body = JSON.parse(bodyText) as Partial<UploadResponse>;
    } catch {
      return { kind: "failed", error: { code: "bad_response", message: "The server sent a response that is not JSON." } };
    }
    const accepted = body.items?.[0];
    if (accepted) return { kind: "accepted", transcription: accepted };
    const rejected = body.rejected?.[0];
    if (rejected && isErrorInfo(rejected.error)) return { kind: "rejected", error: rejected.error };
    return { kind: "failed", error: { code: "bad_response", message: "The server accepted the request but returned no job." } };
  }
  const error = errorFromResponse(status, bodyText);
  const info = { code: error.code, message: error.message };
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: "rejected", error: info };
  return { kind: "failed", error: info };
}

/** The multipart body of a one-file upload; field names are checked against the API's form. */
export function uploadForm(file: File, options: UploadOptions): FormData {
  const form = new FormData();
  const field = (name: keyof UploadForm, value: string) => form.append(name, value);
  form.append("files" satisfies keyof UploadForm, file, file.name);
  if (options.model) field("model", options.model);
  if (options.language) field("language", options.language);
  field("task", options.task);
  if (options.speakers !== "off") field("speakers", options.speakers);
  // Sent only when chosen, so the key's own default priority applies otherwise.
  if (options.priority !== "normal") form.append("priority", options.priority);
  field("word_timestamps", options.wordTimestamps ? "true" : "false");
  field("precise_timestamps", options.preciseTimestamps ? "true" : "false");
  return form;
}

export interface UploadHandle {
  result: Promise<UploadOutcome>;
  abort(): void;
}

/** Sends one file as its own request, reporting real bytes sent through `onProgress`. */
export function uploadFile(
  file: File,
  options: UploadOptions,
  onProgress: (loaded: number, total: number) => void,
): UploadHandle {
  const xhr = new XMLHttpRequest();
  const form = uploadForm(file, options);

  const result = new Promise<UploadOutcome>((resolve) => {
    xhr.upload.onprogress = (event) => {
      onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    };
    xhr.onload = () => {
      if (xhr.status === 401) window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
      resolve(interpretUploadResponse(xhr.status, xhr.responseText));
    };
    xhr.onerror = () => resolve(interpretUploadResponse(0, ""));
    xhr.ontimeout = () => resolve(interpretUploadResponse(0, ""));
    xhr.onabort = () => resolve({ kind: "aborted" });
  });

  xhr.open("POST", apiUrl("/api/transcriptions"));
  for (const [name, value] of Object.entries(requestHeaders())) xhr.setRequestHeader(name, value);
  xhr.send(form);

  return { result, abort: () => xhr.abort() };
}

// Wire types of the SoundScripter HTTP API (v1).

export type Status = "queued" | "processing" | "completed" | "failed" | "cancelled";

export const STATUSES: readonly Status[] = ["queued", "processing", "completed", "failed", "cancelled"];

export type EventType = Status | "progress";

export const EVENT_TYPES: readonly EventType[] = [
  "queued",
  "processing",
  "progress",
  "completed",
  "failed",
  "cancelled",
];

export interface ErrorInfo {
  code: string;
  message: string;
}

export interface Word {
  start: number;
  end: number;
  word: string;
  probability?: number;
}

export interface Segment {
  index: number;
  start: number;
  end: number;
  text: string;
  words?: Word[] | null;
}

export interface Transcription {
  id: string;
  filename: string;
  status: Status;
  progress: number;
  duration_seconds: number | null;
  language: string | null;
  model?: string | null;
  task?: string | null;
  /** Decoded with Whisper's timestamp tokens (exact segment times); otherwise sentence times are estimated within each chunk. */
  precise_timestamps: boolean;
  content_type?: string | null;
  media_kind?: "audio" | "video" | string | null;
  size_bytes?: number | null;
  attempts?: number | null;
  created_at: string;
  started_at?: string | null;
  completed_at?: string | null;
  error: ErrorInfo | null;
  text?: string | null;
  segments?: Segment[];
  /** Sequence number of the job's latest event: orders this record against server-sent events. */
  seq?: number | null;
}

export interface TranscriptionPage {
  items: Transcription[];
  next_cursor: string | null;
}

export interface RejectedFile {
  filename: string;
  error: ErrorInfo;
}

export interface UploadResponse {
  items: Transcription[];
  rejected: RejectedFile[];
}

/** The JSON `data` of one server-sent event. */
export interface JobEventData {
  id: string;
  seq: number;
  status: Status;
  progress: number;
  segment?: Segment;
  segments?: Segment[];
  text?: string | null;
  language?: string | null;
  duration_seconds?: number | null;
  /** On `processing` events: which attempt at the job is running. */
  attempt?: number | null;
  error?: ErrorInfo | null;
  /** Set on the event that announces the job was deleted. */
  deleted?: boolean;
}

export interface JobEvent {
  type: EventType;
  data: JobEventData;
}

export type TranscriptFormat = "txt" | "srt" | "vtt" | "json" | "tsv";

export const TRANSCRIPT_FORMATS: readonly TranscriptFormat[] = ["txt", "srt", "vtt", "json", "tsv"];

export interface UploadOptions {
  /** Empty string means automatic language detection. */
  language: string;
  task: "transcribe" | "translate";
  wordTimestamps: boolean;
  preciseTimestamps: boolean;
}

// Test doubles: an EventSource the test drives by hand, and API records.

import type { EventType, JobEvent, JobEventData, ModelInfo, Transcription } from "../api/types";

/** Event data as tests write it: the generated shape, with the fields a test leaves out optional. */
export type EventDataInput = Partial<JobEventData> & Pick<JobEventData, "id" | "seq">;

type Listener = (event: MessageEvent) => void;

export class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static instances: FakeEventSource[] = [];

  readonly url: string;
  readonly ids: string[];
  /** `since` positions asked for, by job id. */
  readonly since: Record<string, number>;
  readyState = FakeEventSource.CONNECTING;
  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onmessage: Listener | null = null;
  private listeners = new Map<string, Listener[]>();

  constructor(url: string) {
    this.url = url;
    const query = url.includes("?") ? url.slice(url.indexOf("?") + 1) : "";
    const params = new URLSearchParams(query);
    this.ids = (params.get("ids") ?? "").split(",").filter(Boolean);
    this.since = Object.fromEntries(
      (params.get("since") ?? "")
        .split(",")
        .filter(Boolean)
        .map((pair) => [pair.slice(0, pair.lastIndexOf(":")), Number(pair.slice(pair.lastIndexOf(":") + 1))]),
    );
    FakeEventSource.instances.push(this);
  }

  static reset(): void {
    FakeEventSource.instances = [];
  }

  static open(): FakeEventSource[] {
    return FakeEventSource.instances.filter((source) => source.readyState !== FakeEventSource.CLOSED);
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.set(
      type,
      (this.listeners.get(type) ?? []).filter((candidate) => candidate !== listener),
    );
  }

  close(): void {
    this.readyState = FakeEventSource.CLOSED;
  }

  /** The server accepted the stream. */
  accept(): void {
    this.readyState = FakeEventSource.OPEN;
    this.onopen?.(new Event("open"));
  }

  /** The server sent one frame. */
  emit(type: EventType, data: EventDataInput | string): void {
    const message = new MessageEvent(type, {
      data: typeof data === "string" ? data : JSON.stringify(data),
      lastEventId: typeof data === "string" ? "" : String(data.seq),
    });
    for (const listener of this.listeners.get(type) ?? []) listener(message);
  }

  /** The connection dropped; `closed` means the browser gave up (HTTP error). */
  fail(closed: boolean): void {
    this.readyState = closed ? FakeEventSource.CLOSED : FakeEventSource.CONNECTING;
    this.onerror?.(new Event("error"));
  }
}

export function transcription(overrides: Partial<Transcription> & { id: string }): Transcription {
  return {
    filename: `${overrides.id}.wav`,
    status: "queued",
    progress: 0,
    duration_seconds: 10,
    language: null,
    languages: null,
    requested_language: null,
    model: "tiny.en",
    task: "transcribe",
    word_timestamps: false,
    vad: false,
    initial_prompt: null,
    precise_timestamps: false,
    speaker_mode: "off",
    speakers: null,
    speakers_error: null,
    content_type: "audio/wav",
    media_kind: "audio",
    size_bytes: 1024,
    sha256: "0".repeat(64),
    created_at: "2025-01-02T03:04:05Z",
    started_at: null,
    completed_at: null,
    error: null,
    text: null,
    seq: 1,
    attempts: 0,
    restart_reason: null,
    waiting_for_worker: false,
    reused_from: null,
    priority: "normal",
    position: null,
    eta: null,
    revision: 0,
    edited: false,
    edited_at: null,
    ...overrides,
  };
}

/** A received event as a test writes it: the reducer must cope with fields left out. */
export function receivedEvent(type: EventType, data: EventDataInput): JobEvent {
  return { type, data: data as JobEventData };
}

export function jsonResponse(status: number, body: unknown): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

/** A served model as GET /api/models lists it; `*.en` names are English only. */
export function modelInfo(overrides: Partial<ModelInfo> & { name: string }): ModelInfo {
  const multilingual = overrides.multilingual ?? !overrides.name.endsWith(".en");
  return {
    multilingual,
    languages: multilingual ? ["en", "de", "fr"] : ["en"],
    tasks: multilingual ? ["transcribe", "translate"] : ["transcribe"],
    workers: 1,
    queued: 0,
    speed: null,
    ...overrides,
  };
}

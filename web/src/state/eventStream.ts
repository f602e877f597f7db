// One multiplexed EventSource for all followed jobs (`GET /api/events?ids=a,b,c`).
// When the set of ids changes the stream is reopened once with the new set, starting after the
// positions already known (`since`), so nothing is lost or sent twice between the two
// connections. After a failure it reopens with a full snapshot.

import type { StreamPositions } from "../api/client";
import { EVENT_TYPES } from "../api/states.generated";
import type { EventType, JobEvent, JobEventData } from "../api/types";

export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting";

export interface JobEventStreamOptions {
  /** Opens the stream; `since` holds the positions already known (absent: full snapshot). */
  open: (ids: readonly string[], since: StreamPositions | null) => EventSource;
  /** The positions already known, read when the set of ids changes. */
  positions?: () => StreamPositions;
  onEvent: (event: JobEvent) => void;
  onState?: (state: ConnectionState) => void;
  /** Delay before (re)opening after the set of ids changed, to batch quick changes. */
  settleMs?: number;
  /** Delay before reopening after the server refused or dropped the stream; doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

const CLOSED = 2;

/** The most jobs one stream may follow (the server's limit). */
export const MAX_STREAM_IDS = 200;

export function parseEventData(raw: unknown): JobEventData | null {
  if (typeof raw !== "string") return null;
  try {
    const data: unknown = JSON.parse(raw);
    if (typeof data !== "object" || data === null) return null;
    const candidate = data as Partial<JobEventData>;
    if (typeof candidate.id !== "string" || typeof candidate.seq !== "number") return null;
    return candidate as JobEventData;
  } catch {
    return null;
  }
}

export class JobEventStream {
  private readonly options: Required<Omit<JobEventStreamOptions, "onState" | "positions">> &
    Pick<JobEventStreamOptions, "onState" | "positions">;
  private ids: string[] = [];
  private key = "";
  private source: EventSource | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private state: ConnectionState = "idle";
  private closed = false;

  constructor(options: JobEventStreamOptions) {
    this.options = { settleMs: 60, retryMs: 1000, maxRetryMs: 30000, ...options };
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** Follows exactly these jobs from now on. */
  setIds(ids: Iterable<string>): void {
    if (this.closed) return;
    const sorted = [...new Set(ids)].filter(Boolean).sort().slice(0, MAX_STREAM_IDS);
    const key = sorted.join(",");
    if (key === this.key) return;
    this.key = key;
    this.ids = sorted;
    this.failures = 0;
    this.schedule(this.options.settleMs);
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
    this.closeSource();
    this.setState("idle");
  }

  private schedule(delay: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private closeSource(): void {
    if (this.source) this.source.close();
    this.source = null;
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.options.onState?.(state);
  }

  private connect(): void {
    this.closeSource();
    if (this.closed) return;
    if (this.ids.length === 0) {
      this.setState("idle");
      return;
    }
    this.setState(this.failures > 0 ? "reconnecting" : "connecting");
    const since = this.failures === 0 ? (this.options.positions?.() ?? null) : null;
    const source = this.options.open(this.ids, since);
    this.source = source;
    source.onopen = () => {
      if (this.source !== source) return;
      this.failures = 0;
      this.setState("open");
    };
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (message) => this.receive(source, type, message as MessageEvent));
    }
    source.onerror = () => {
      if (this.source !== source) return;
      if (source.readyState === CLOSED) {
        // The browser gave up (HTTP error or wrong content type): try again later ourselves.
        this.failures += 1;
        this.setState("reconnecting");
        const delay = Math.min(this.options.maxRetryMs, this.options.retryMs * 2 ** (this.failures - 1));
        this.schedule(delay);
      } else {
        // The browser reconnects on its own and sends Last-Event-ID.
        this.setState("reconnecting");
      }
    };
  }

  private receive(source: EventSource, type: EventType, message: MessageEvent): void {
    if (this.source !== source) return;
    const data = parseEventData(message.data);
    if (data) this.options.onEvent({ type, data });
  }
}

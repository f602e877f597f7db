// API key and browser session. With API keys configured on the server, every request carries
// `Authorization: Bearer <key>`; EventSource, <audio> and download links cannot send headers, so
// the key is traded for a short-lived session (`POST /api/session`): an HttpOnly cookie the
// browser sends by itself on the same origin, and a token added as `?token=` when the API lives
// on another origin. The key is kept in sessionStorage (gone when the tab closes).

const KEY_STORAGE = "soundscripter.apiKey";
const RENEW_FRACTION = 0.5;

let apiKey: string | null = readStoredKey();
let sessionToken: string | null = null;
let renewTimer: ReturnType<typeof setTimeout> | null = null;

function readStoredKey(): string | null {
  try {
    return globalThis.sessionStorage?.getItem(KEY_STORAGE) ?? null;
  } catch {
    return null;
  }
}

export function getApiKey(): string | null {
  return apiKey;
}

export function setApiKey(key: string | null): void {
  apiKey = key && key.trim() ? key.trim() : null;
  sessionToken = null;
  try {
    if (apiKey) globalThis.sessionStorage?.setItem(KEY_STORAGE, apiKey);
    else globalThis.sessionStorage?.removeItem(KEY_STORAGE);
  } catch {
    // storage unavailable (private mode): the key lives for this page only
  }
}

/** Token for URLs the browser fetches by itself, when the API is on another origin. */
export function currentSessionToken(): string | null {
  return sessionToken;
}

export function authHeaders(): Record<string, string> {
  return apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
}

export interface SessionInfo {
  owner: string | null;
  admin: boolean;
  auth_required: boolean;
}

interface SessionToken extends SessionInfo {
  token: string;
  expires_at: number;
}

export type AccessState = { kind: "ok"; session: SessionInfo } | { kind: "needs-key"; message: string };

/** Asks the server whether the stored key (if any) is accepted; opens a session when it is. */
export async function checkAccess(base: string): Promise<AccessState> {
  const response = await fetch(`${base}/api/session`, { headers: { Accept: "application/json", ...authHeaders() } });
  if (response.status === 401) {
    const message = apiKey ? "That API key was not accepted." : "This server needs an API key.";
    return { kind: "needs-key", message };
  }
  if (!response.ok) throw new Error(`The server answered with HTTP ${response.status}.`);
  const session = (await response.json()) as SessionInfo;
  if (session.auth_required) await openSession(base);
  return { kind: "ok", session };
}

/** Trades the key for a session cookie and token, and renews it before it expires. */
export async function openSession(base: string): Promise<void> {
  const response = await fetch(`${base}/api/session`, {
    method: "POST",
    credentials: "include",
    headers: { Accept: "application/json", ...authHeaders() },
  });
  if (!response.ok) throw new Error(`Opening a session failed (HTTP ${response.status}).`);
  const session = (await response.json()) as SessionToken;
  sessionToken = session.token;
  const lifetimeMs = Math.max(30_000, session.expires_at * 1000 - Date.now());
  if (renewTimer) clearTimeout(renewTimer);
  renewTimer = setTimeout(() => {
    openSession(base).catch(() => undefined);
  }, lifetimeMs * RENEW_FRACTION);
}

export function stopSessionRenewal(): void {
  if (renewTimer) clearTimeout(renewTimer);
  renewTimer = null;
}

/** Event fired on `window` when a request is refused with 401 (the key was removed or changed). */
export const UNAUTHORIZED_EVENT = "soundscripter:unauthorized";

import { useCallback, useEffect, useId, useState, type FormEvent, type ReactNode } from "react";
import { checkAccess, getApiKey, setApiKey, stopSessionRenewal, UNAUTHORIZED_EVENT } from "../api/auth";
import { API_BASE } from "../api/client";

type GateState = { kind: "checking" } | { kind: "open" } | { kind: "locked"; message: string } | { kind: "error"; message: string };

/**
 * Shows its children once the server accepts this browser: at once when it needs no key,
 * otherwise after the person enters an API key (kept for the tab's lifetime). A request refused
 * later with 401 brings the prompt back.
 */
export function KeyGate({ children }: { children: ReactNode }) {
  const [state, setState] = useState<GateState>({ kind: "checking" });
  const [draft, setDraft] = useState("");
  const inputId = useId();
  const hintId = useId();

  const check = useCallback(async () => {
    try {
      const access = await checkAccess(API_BASE);
      setState(access.kind === "ok" ? { kind: "open" } : { kind: "locked", message: access.message });
    } catch (error) {
      setState({ kind: "error", message: error instanceof Error ? error.message : "The server could not be reached." });
    }
  }, []);

  useEffect(() => {
    void check();
    const relock = () => {
      stopSessionRenewal();
      setState({ kind: "locked", message: "The server no longer accepts this API key." });
    };
    window.addEventListener(UNAUTHORIZED_EVENT, relock);
    return () => {
      window.removeEventListener(UNAUTHORIZED_EVENT, relock);
      stopSessionRenewal();
    };
  }, [check]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setApiKey(draft);
    setDraft("");
    setState({ kind: "checking" });
    void check();
  };

  if (state.kind === "open") return <>{children}</>;
  if (state.kind === "checking") return <p className="muted small" role="status">Connecting…</p>;
  return (
    <main className="main">
      <div className="view">
        <h1>Sign in to SoundScripter</h1>
        <form className="options" onSubmit={submit} aria-describedby={hintId}>
          <div className="field">
            <label htmlFor={inputId}>API key</label>
            <input
              id={inputId}
              type="password"
              autoComplete="current-password"
              required
              value={draft}
              onChange={(event) => setDraft(event.target.value)}
            />
          </div>
          <p id={hintId} className="muted small">
            Ask whoever runs this server for a key. It is kept in this tab only.
          </p>
          <p className={getApiKey() ? "banner banner--error" : "muted"} role="alert">
            {state.message}
          </p>
          <button className="button" type="submit">
            Sign in
          </button>
          {getApiKey() ? (
            <button className="button button--quiet" type="button" onClick={() => setApiKey(null)}>
              Forget the stored key
            </button>
          ) : null}
        </form>
      </div>
    </main>
  );
}

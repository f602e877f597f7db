import { useConnectionState } from "../state/JobsProvider";

const LABELS = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
} as const;

/** Shows whether live updates are flowing; hidden while nothing is being followed. */
export function ConnectionStatus() {
  const state = useConnectionState();
  if (state === "idle") return null;
  return (
    <span className={`connection connection--${state}`} role="status" title="Live updates">
      <span className="connection__dot" aria-hidden="true" />
      <span className="connection__label">{LABELS[state]}</span>
    </span>
  );
}

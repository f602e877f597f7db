// The lifecycle buttons of a transcription (cancel, retry, delete), the message when the server
// refuses one, and the question before deleting.

import { ConfirmDialog } from "../../components/ConfirmDialog";
import type { JobStatus } from "../../status";
import type { TranscriptActions as Actions } from "./useTranscriptActions";

export function TranscriptActionButtons({ status, actions }: { status: JobStatus; actions: Actions }) {
  const { busy, run } = actions;
  const canCancel = status === "queued" || status === "processing";
  const canRetry = status === "failed" || status === "cancelled";
  return (
    <div className="transcript__actions">
      {canCancel ? (
        <button type="button" className="button" onClick={() => void run("cancel")} disabled={busy !== null}>
          {busy === "cancel" ? "Cancelling…" : "Cancel"}
        </button>
      ) : null}
      {canRetry ? (
        <button type="button" className="button" onClick={() => void run("retry")} disabled={busy !== null}>
          {busy === "retry" ? "Retrying…" : "Retry"}
        </button>
      ) : null}
      <button type="button" className="button button--danger-quiet" onClick={actions.askToDelete} disabled={busy !== null}>
        Delete
      </button>
    </div>
  );
}

export function ActionError({ actions }: { actions: Actions }) {
  if (!actions.error) return null;
  return (
    <div className="banner banner--error" role="alert">
      <span>{actions.error}</span>
      <button type="button" className="icon-button" aria-label="Dismiss message" onClick={actions.dismissError}>
        ×
      </button>
    </div>
  );
}

export function DeleteDialog({ filename, actions }: { filename: string; actions: Actions }) {
  if (!actions.confirmingDelete) return null;
  return (
    <ConfirmDialog
      title="Delete this transcription?"
      confirmLabel="Delete"
      busy={actions.busy === "delete"}
      onConfirm={() => void actions.run("delete")}
      onCancel={actions.keep}
    >
      <p>
        <strong>{filename}</strong>, its transcript and the uploaded recording are removed for good.
      </p>
    </ConfirmDialog>
  );
}

// What the transcript page shows instead of a transcript: deleted, not found, unreachable, loading.

import type { ReactNode } from "react";
import type { ApiError } from "../../api/client";
import { BackIcon } from "../../components/Icons";
import { Notice, Spinner } from "../../components/Notice";
import { Link } from "../../router";
import { useDocumentTitle } from "../useDocumentTitle";

export function BackToLibrary() {
  return (
    <Link className="back-link" to="/library">
      <BackIcon size={16} /> Library
    </Link>
  );
}

function Page({ children }: { children: ReactNode }) {
  return (
    <div className="view view--transcript">
      <BackToLibrary />
      {children}
    </div>
  );
}

function LibraryButton() {
  return (
    <Link className="button" to="/library">
      Go to the library
    </Link>
  );
}

export function TranscriptDeleted({ filename }: { filename: string }) {
  return (
    <Page>
      <h1 tabIndex={-1}>{filename || "Transcript"}</h1>
      <Notice tone="empty" title="This transcription was deleted." action={<LibraryButton />} />
    </Page>
  );
}

/** An id no transcription has, or an address that cannot be one (not a UUID): the same page. */
export function TranscriptNotFound() {
  useDocumentTitle("Transcript not found");
  return (
    <Page>
      <h1 tabIndex={-1}>Transcript not found</h1>
      <Notice tone="error" title="There is no transcription with this address." action={<LibraryButton />}>
        It may have been deleted.
      </Notice>
    </Page>
  );
}

export function TranscriptLoadFailed({ error, onRetry }: { error: ApiError; onRetry: () => void }) {
  if (error.isNotFound) return <TranscriptNotFound />;
  return (
    <Page>
      <h1 tabIndex={-1}>Transcript unavailable</h1>
      <Notice
        tone="error"
        title={error.message}
        action={
          <button type="button" className="button" onClick={onRetry}>
            Try again
          </button>
        }
      />
    </Page>
  );
}

export function TranscriptLoading() {
  return (
    <Page>
      <Spinner label="Loading transcript…" />
    </Page>
  );
}

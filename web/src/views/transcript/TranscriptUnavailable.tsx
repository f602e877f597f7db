// What the transcript page shows instead of a transcript: deleted, not found, unreachable, loading.

import type { ReactNode } from "react";
import type { ApiError } from "../../api/client";
import { BackIcon } from "../../components/Icons";
import { Notice, Spinner } from "../../components/Notice";
import { Link } from "../../router";

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

export function TranscriptLoadFailed({ error, onRetry }: { error: ApiError; onRetry: () => void }) {
  const notFound = error.isNotFound;
  return (
    <Page>
      <h1 tabIndex={-1}>{notFound ? "Transcript not found" : "Transcript unavailable"}</h1>
      <Notice
        tone="error"
        title={notFound ? "There is no transcription with this address." : error.message}
        action={
          notFound ? (
            <LibraryButton />
          ) : (
            <button type="button" className="button" onClick={onRetry}>
              Try again
            </button>
          )
        }
      >
        {notFound ? "It may have been deleted." : null}
      </Notice>
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

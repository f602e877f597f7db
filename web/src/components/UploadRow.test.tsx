import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { applyEvent } from "../state/jobs";
import { receivedEvent } from "../test/fakes";
import type { UploadItem } from "../state/uploads";
import { UploadRow } from "./UploadRow";
import { DEFAULT_UPLOAD_OPTIONS } from "../uploadOptions";

function item(overrides: Partial<UploadItem>): UploadItem {
  return {
    key: "k1",
    filename: "meeting.mp3",
    size: 2 * 1024 * 1024,
    loaded: 0,
    total: 2 * 1024 * 1024,
    phase: "waiting",
    options: { ...DEFAULT_UPLOAD_OPTIONS },
    jobId: null,
    error: null,
    addedAt: 1,
    batch: null,
    ...overrides,
  };
}

const noop = () => undefined;

function renderRow(upload: UploadItem, job?: Parameters<typeof UploadRow>[0]["job"], handlers = { onCancel: noop, onRetry: noop, onDismiss: noop }) {
  return render(
    <ul>
      <UploadRow item={upload} job={job} {...handlers} />
    </ul>,
  );
}

describe("UploadRow", () => {
  it("shows upload progress with the bytes sent", () => {
    renderRow(item({ phase: "uploading", loaded: 1024 * 1024, total: 2 * 1024 * 1024 }));
    const bar = screen.getByRole("progressbar", { name: "Upload progress of meeting.mp3" });
    expect(bar.getAttribute("aria-valuenow")).toBe("50");
    expect(screen.getByText(/50% · 1\.0 MB of 2\.0 MB/)).toBeTruthy();
  });

  it("shows the reason a file was rejected", () => {
    const onDismiss = vi.fn();
    renderRow(
      item({ phase: "rejected", error: { code: "unsupported_media", message: "The file has no audio stream." } }),
      undefined,
      { onCancel: noop, onRetry: noop, onDismiss },
    );
    expect(screen.getByRole("alert").textContent).toContain("The file has no audio stream.");
    expect(screen.queryByRole("progressbar")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Remove meeting.mp3 from this list" }));
    expect(onDismiss).toHaveBeenCalledWith("k1");
  });

  it("offers to cancel an upload in flight and to retry a failed one", () => {
    const onCancel = vi.fn();
    const onRetry = vi.fn();
    const { unmount } = renderRow(item({ phase: "uploading", loaded: 10 }), undefined, { onCancel, onRetry, onDismiss: noop });
    fireEvent.click(screen.getByRole("button", { name: /Cancel/ }));
    expect(onCancel).toHaveBeenCalledWith("k1");
    unmount();
    renderRow(item({ phase: "failed", error: { code: "network_error", message: "Could not reach the server." } }), undefined, {
      onCancel,
      onRetry,
      onDismiss: noop,
    });
    fireEvent.click(screen.getByRole("button", { name: /Try again/ }));
    expect(onRetry).toHaveBeenCalledWith("k1");
  });

  it("follows the transcription and shows the text as it arrives", () => {
    let job = applyEvent(undefined, receivedEvent("processing", { id: "j1", seq: 2, status: "processing", progress: 0, attempt: 1 }));
    job = applyEvent(
      job,
      receivedEvent("progress", { id: "j1", seq: 3, status: "processing", progress: 0.4, segment: { index: 0, start: 0, end: 2, text: " Hello there." } }),
    );
    renderRow(item({ phase: "accepted", jobId: "j1", loaded: 10, total: 10 }), job);
    const bar = screen.getByRole("progressbar", { name: "Transcription progress of meeting.mp3" });
    expect(bar.getAttribute("aria-valuenow")).toBe("40");
    expect(screen.getByRole("region", { name: "Transcript of meeting.mp3" }).textContent).toBe("Hello there.");
    expect(screen.getByRole("link", { name: "meeting.mp3" }).getAttribute("href")).toBe("/transcriptions/j1");
  });
});

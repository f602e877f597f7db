import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Segment, Transcription } from "../../api/types";
import { FakeEventSource, jsonResponse, transcription } from "../../test/fakes";
import { renderWithProviders } from "../../test/render";
import { TranscriptView } from "./TranscriptView";

const segments: Segment[] = [
  { index: 0, start: 0, end: 2, text: " Good mourning." },
  { index: 1, start: 2, end: 4, text: " The meating starts now." },
  { index: 2, start: 4, end: 6, text: " First, the release." },
];

const recognised: Transcription = transcription({
  id: "j1",
  filename: "standup.wav",
  status: "completed",
  progress: 1,
  seq: 9,
  text: segments.map((s) => s.text.trim()).join(" "),
  segments,
  revision: 0,
  edited: false,
  edited_at: null,
});

interface Call {
  method: string;
  url: string;
  body: unknown;
}

/** A server that applies segment edits as new revisions. */
function serve(refuse?: { status: number; code: string; message: string }): Call[] {
  const calls: Call[] = [];
  let record = recognised;
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const call = { method: init?.method ?? "GET", url, body: init?.body ? JSON.parse(String(init.body)) : undefined };
      calls.push(call);
      if (url !== "/api/transcriptions/j1") return jsonResponse(404, { error: { code: "not_found", message: "No such endpoint." } });
      if (call.method === "PATCH") {
        if (refuse) return jsonResponse(refuse.status, { error: { code: refuse.code, message: refuse.message } });
        const changes = (call.body as { segments: Array<{ index: number; text: string }> }).segments;
        const next = record.segments!.map((s) => {
          const change = changes.find((c) => c.index === s.index);
          return change ? { ...s, text: ` ${change.text}` } : s;
        });
        record = { ...record, segments: next, revision: (record.revision ?? 0) + 1, edited: true, edited_at: "2025-01-03T10:00:00Z" };
      }
      return jsonResponse(200, record);
    }),
  );
  return calls;
}

function field(time: string): HTMLTextAreaElement {
  return screen.getByRole("textbox", { name: `Text at ${time}` }) as HTMLTextAreaElement;
}

function patches(calls: Call[]): unknown[] {
  return calls.filter((call) => call.method === "PATCH").map((call) => call.body);
}

beforeEach(() => {
  FakeEventSource.reset();
  window.history.replaceState(null, "", "/transcriptions/j1");
});

describe("correcting the transcript", () => {
  it("saves a line with Enter as a new revision, moves to the next, and shows the edit", async () => {
    const calls = serve();
    renderWithProviders(<TranscriptView id="j1" />);
    await screen.findByRole("button", { name: /Good mourning/ });
    expect(screen.queryByText(/^Edited/)).toBeNull();
    expect(screen.queryByRole("link", { name: /as recognised/ })).toBeNull();

    fireEvent.click(screen.getByRole("button", { name: "Edit text" }));
    expect(document.activeElement).toBe(field("0:00"));
    fireEvent.change(field("0:00"), { target: { value: "Good  morning. " } });
    fireEvent.keyDown(field("0:00"), { key: "Enter" });
    await waitFor(() => expect(document.activeElement).toBe(field("0:02")));
    expect(patches(calls)).toEqual([{ segments: [{ index: 0, text: "Good morning." }], revision: 0 }]);
    await waitFor(() => expect(field("0:00").value).toBe("Good morning."));

    fireEvent.change(field("0:02"), { target: { value: "The meeting starts now." } });
    fireEvent.keyDown(field("0:02"), { key: "Enter" });
    await waitFor(() => expect(document.activeElement).toBe(field("0:04")));
    expect(patches(calls)[1]).toEqual({ segments: [{ index: 1, text: "The meeting starts now." }], revision: 1 });

    fireEvent.blur(field("0:04"));
    expect(patches(calls)).toHaveLength(2); // nothing changed there
    fireEvent.click(screen.getByRole("button", { name: "Done editing" }));
    expect(await screen.findByRole("button", { name: /Good morning\./ })).toBeTruthy();
    expect(screen.getByRole("button", { name: /The meeting starts now/ })).toBeTruthy();
    expect(screen.getByText(/^Edited/)).toBeTruthy();
    const original = screen.getByRole("link", { name: /^SRT ?as recognised$/ });
    expect(original.getAttribute("href")).toBe("/api/transcriptions/j1/transcript?format=srt&revision=0");
  });

  it("puts the saved text back with Escape, without asking the server", async () => {
    const calls = serve();
    renderWithProviders(<TranscriptView id="j1" />);
    fireEvent.click(await screen.findByRole("button", { name: "Edit text" }));
    fireEvent.change(field("0:02"), { target: { value: "Something else" } });
    fireEvent.keyDown(field("0:02"), { key: "Escape" });
    expect(field("0:02").value).toBe("The meating starts now.");
    fireEvent.blur(field("0:02"));
    expect(patches(calls)).toEqual([]);
  });

  it("undoes the last edit as a new revision", async () => {
    const calls = serve();
    renderWithProviders(<TranscriptView id="j1" />);
    fireEvent.click(await screen.findByRole("button", { name: "Edit text" }));
    fireEvent.change(field("0:04"), { target: { value: "First, the new release." } });
    fireEvent.blur(field("0:04"));
    const undo = await screen.findByRole("button", { name: "Undo last edit" });
    await waitFor(() => expect(field("0:04").value).toBe("First, the new release."));
    fireEvent.click(undo);
    await waitFor(() => expect(field("0:04").value).toBe("First, the release."));
    expect(patches(calls)).toEqual([
      { segments: [{ index: 2, text: "First, the new release." }], revision: 0 },
      { segments: [{ index: 2, text: "First, the release." }], revision: 1 },
    ]);
    expect(screen.queryByRole("button", { name: "Undo last edit" })).toBeNull();
  });

  it("shows the server's reason beside the line when a save is refused, and keeps the draft", async () => {
    const message = "The transcript was changed since you opened it: reload to see the latest.";
    serve({ status: 409, code: "revision_conflict", message });
    renderWithProviders(<TranscriptView id="j1" />);
    fireEvent.click(await screen.findByRole("button", { name: "Edit text" }));
    fireEvent.change(field("0:00"), { target: { value: "Good morning." } });
    fireEvent.keyDown(field("0:00"), { key: "Enter" });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe(message);
    expect(field("0:00").value).toBe("Good morning.");
    expect(field("0:00").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(field("0:00"));
  });

  it("offers no editing before the transcription has completed", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => jsonResponse(200, { ...recognised, status: "processing", progress: 0.5, text: null })),
    );
    renderWithProviders(<TranscriptView id="j1" />);
    await screen.findByRole("button", { name: /Good mourning/ });
    expect(screen.queryByRole("button", { name: "Edit text" })).toBeNull();
    expect(within(document.body).queryByRole("textbox")).toBeNull();
  });
});

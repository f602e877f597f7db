import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Segment, Transcription } from "../../api/types";
import { FakeEventSource, jsonResponse, transcription } from "../../test/fakes";
import { renderWithProviders } from "../../test/render";
import { TranscriptView } from "./TranscriptView";

const segments: Segment[] = [
  { index: 0, start: 0, end: 1.5, text: " Good morning." },
  { index: 1, start: 1.5, end: 4.25, text: " The meeting starts now." },
];

const completed: Transcription = transcription({
  id: "j1",
  filename: "standup.wav",
  status: "completed",
  progress: 1,
  language: "en",
  seq: 9,
  text: "Good morning. The meeting starts now.",
  segments,
});

type Route = (method: string, url: string) => Response | undefined;

function stubFetch(route: Route) {
  const calls: Array<{ method: string; url: string }> = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? "GET";
      calls.push({ method, url });
      return route(method, url) ?? jsonResponse(404, { error: { code: "not_found", message: "No such endpoint." } });
    }),
  );
  return calls;
}

beforeEach(() => {
  FakeEventSource.reset();
  window.history.replaceState(null, "", "/transcriptions/j1");
  vi.spyOn(HTMLMediaElement.prototype, "play").mockImplementation(() => Promise.resolve());
});

describe("TranscriptView", () => {
  it("shows the segments, the player and the downloads; a click seeks the player", async () => {
    stubFetch((method, url) => (method === "GET" && url === "/api/transcriptions/j1" ? jsonResponse(200, completed) : undefined));
    const { container } = renderWithProviders(<TranscriptView id="j1" />);
    const second = await screen.findByRole("button", { name: /The meeting starts now/ });
    const audio = container.querySelector("audio")!;
    expect(audio.getAttribute("src")).toBe("/api/transcriptions/j1/audio");

    fireEvent.click(second);
    expect(audio.currentTime).toBe(1.5);
    expect(HTMLMediaElement.prototype.play).toHaveBeenCalled();
    expect(second.getAttribute("aria-current")).toBe("true");

    const srt = screen.getByRole("link", { name: /SRT/ });
    expect(srt.getAttribute("href")).toBe("/api/transcriptions/j1/transcript?format=srt");
    expect(screen.getAllByRole("link", { name: /transcript$/ })).toHaveLength(5);
    expect(FakeEventSource.instances).toHaveLength(0);
    expect(screen.getByText("Timestamps: estimated within sentences")).toBeTruthy();
    expect(screen.queryByText("Timestamps: precise")).toBeNull();
  });

  it("says when the job was decoded with precise timestamps", async () => {
    const precise = { ...completed, precise_timestamps: true };
    stubFetch((method, url) => (method === "GET" && url === "/api/transcriptions/j1" ? jsonResponse(200, precise) : undefined));
    renderWithProviders(<TranscriptView id="j1" />);
    expect(await screen.findByText("Timestamps: precise")).toBeTruthy();
    expect(screen.queryByText("Timestamps: estimated within sentences")).toBeNull();
  });

  it("says so when the transcription does not exist", async () => {
    stubFetch(() => undefined);
    renderWithProviders(<TranscriptView id="j1" />);
    expect(await screen.findByRole("heading", { name: "Transcript not found" })).toBeTruthy();
  });

  it("says so when the server cannot be reached", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    renderWithProviders(<TranscriptView id="j1" />);
    expect(await screen.findByText(/Could not reach the SoundScripter server/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Try again" })).toBeTruthy();
  });

  it("shows segments arriving live while the job runs, then the final record", async () => {
    let record = transcription({ id: "j1", status: "processing", progress: 0.1, seq: 3, attempts: 1, segments: [] });
    const calls = stubFetch((method, url) => (method === "GET" && url === "/api/transcriptions/j1" ? jsonResponse(200, record) : undefined));
    renderWithProviders(<TranscriptView id="j1" />);
    await screen.findByText(/No text yet/);
    await waitFor(() => expect(FakeEventSource.open()).toHaveLength(1));
    const stream = FakeEventSource.open()[0]!;
    expect(stream.ids).toEqual(["j1"]);
    act(() => {
      stream.emit("progress", { id: "j1", seq: 4, status: "processing", progress: 0.5, segment: segments[0] });
    });
    expect(await screen.findByRole("button", { name: /Good morning/ })).toBeTruthy();
    expect(screen.getByRole("progressbar", { name: "Transcription progress" }).getAttribute("aria-valuenow")).toBe("50");

    record = { ...completed, seq: 6 };
    act(() => {
      stream.emit("completed", { id: "j1", seq: 6, status: "completed", progress: 1, text: completed.text });
    });
    expect(await screen.findByRole("link", { name: /SRT/ })).toBeTruthy();
    await screen.findByText("English");
    expect(screen.getAllByRole("button", { name: /Good morning|The meeting starts now/ })).toHaveLength(2);
    expect(calls.filter((call) => call.url === "/api/transcriptions/j1")).toHaveLength(2);
    await waitFor(() => expect(FakeEventSource.open()).toHaveLength(0));
  });

  it("shows the API's reason when an action is refused", async () => {
    const running = transcription({ id: "j1", status: "processing", progress: 0.1, seq: 3, attempts: 1 });
    stubFetch((method, url) => {
      if (method === "GET" && url === "/api/transcriptions/j1") return jsonResponse(200, running);
      if (method === "POST" && url === "/api/transcriptions/j1/cancel") {
        return jsonResponse(409, { error: { code: "invalid_state", message: "The transcription is already completed." } });
      }
      return undefined;
    });
    renderWithProviders(<TranscriptView id="j1" />);
    fireEvent.click(await screen.findByRole("button", { name: "Cancel" }));
    expect((await screen.findByRole("alert")).textContent).toContain("The transcription is already completed.");
  });

  it("asks before deleting, then deletes and goes to the library", async () => {
    const calls = stubFetch((method, url) => {
      if (method === "GET" && url === "/api/transcriptions/j1") return jsonResponse(200, completed);
      if (method === "DELETE" && url === "/api/transcriptions/j1") return new Response(null, { status: 204 });
      return undefined;
    });
    renderWithProviders(<TranscriptView id="j1" />);
    fireEvent.click(await screen.findByRole("button", { name: "Delete" }));
    const dialog = screen.getByRole("alertdialog", { name: "Delete this transcription?" });
    expect(calls.some((call) => call.method === "DELETE")).toBe(false);
    fireEvent.click(within(dialog).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(window.location.pathname).toBe("/library"));
    expect(calls.filter((call) => call.method === "DELETE")).toHaveLength(1);
  });

  it("closes the delete dialog with Escape without deleting", async () => {
    const calls = stubFetch((method, url) => (method === "GET" && url === "/api/transcriptions/j1" ? jsonResponse(200, completed) : undefined));
    renderWithProviders(<TranscriptView id="j1" />);
    fireEvent.click(await screen.findByRole("button", { name: "Delete" }));
    fireEvent.keyDown(screen.getByRole("alertdialog"), { key: "Escape" });
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(calls.some((call) => call.method === "DELETE")).toBe(false);
  });
});

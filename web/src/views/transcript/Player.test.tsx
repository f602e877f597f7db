import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { Shell } from "../../App";
import type { Segment, Transcription } from "../../api/types";
import { FakeEventSource, jsonResponse, transcription } from "../../test/fakes";
import { renderWithProviders } from "../../test/render";
import { TranscriptView } from "./TranscriptView";

const segments: Segment[] = [
  { index: 0, start: 0, end: 4, text: " Good morning." },
  { index: 1, start: 4, end: 9, text: " The meeting starts now." },
  { index: 2, start: 9, end: 14, text: " First, the release." },
];

const completed: Transcription = transcription({
  id: "j1",
  filename: "standup.wav",
  status: "completed",
  progress: 1,
  seq: 9,
  text: "Good morning. The meeting starts now. First, the release.",
  segments,
});

function serve(record: Transcription): Array<{ method: string; url: string }> {
  const calls: Array<{ method: string; url: string }> = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ method: init?.method ?? "GET", url });
      if (url === `/api/transcriptions/${record.id}`) return jsonResponse(200, record);
      return jsonResponse(404, { error: { code: "not_found", message: "No such endpoint." } });
    }),
  );
  return calls;
}

let paused = true;

beforeEach(() => {
  FakeEventSource.reset();
  window.history.replaceState(null, "", "/transcriptions/j1");
  window.localStorage.clear();
  paused = true;
  vi.spyOn(HTMLMediaElement.prototype, "paused", "get").mockImplementation(() => paused);
  vi.spyOn(HTMLMediaElement.prototype, "duration", "get").mockImplementation(() => 14);
  vi.spyOn(HTMLMediaElement.prototype, "play").mockImplementation(function (this: HTMLMediaElement) {
    paused = false;
    this.dispatchEvent(new Event("play"));
    return Promise.resolve();
  });
  vi.spyOn(HTMLMediaElement.prototype, "pause").mockImplementation(function (this: HTMLMediaElement) {
    paused = true;
    this.dispatchEvent(new Event("pause"));
  });
});

function controls(): HTMLElement {
  return screen.getByRole("group", { name: "Playback controls" });
}

describe("the player's controls", () => {
  it("skips 5 s either way within the recording, plays and pauses, and shows the time", async () => {
    serve(completed);
    const { container } = renderWithProviders(<TranscriptView id="j1" />);
    await screen.findByRole("button", { name: /Good morning/ });
    const audio = container.querySelector("audio")!;
    const group = controls();
    fireEvent.click(within(group).getByRole("button", { name: "Forward 5 seconds" }));
    expect(audio.currentTime).toBe(5);
    fireEvent.click(within(group).getByRole("button", { name: "Forward 5 seconds" }));
    fireEvent.click(within(group).getByRole("button", { name: "Forward 5 seconds" }));
    expect(audio.currentTime).toBe(14);
    fireEvent.click(within(group).getByRole("button", { name: "Back 5 seconds" }));
    expect(audio.currentTime).toBe(9);
    act(() => {
      audio.dispatchEvent(new Event("timeupdate"));
    });
    expect(group.querySelector(".player-time")!.textContent).toBe("Played 0:09 /  of 0:14");

    fireEvent.click(within(group).getByRole("button", { name: "Play" }));
    expect(HTMLMediaElement.prototype.play).toHaveBeenCalledTimes(1);
    fireEvent.click(await within(group).findByRole("button", { name: "Pause" }));
    expect(HTMLMediaElement.prototype.pause).toHaveBeenCalledTimes(1);
    expect(within(group).getByRole("button", { name: "Play" })).toBeTruthy();
  });

  it("sets the speed and keeps it for the next transcript", async () => {
    serve(completed);
    const { container, unmount } = renderWithProviders(<TranscriptView id="j1" />);
    await screen.findByRole("button", { name: /Good morning/ });
    const speed = within(controls()).getByLabelText("Playback speed") as HTMLSelectElement;
    expect(speed.value).toBe("1");
    expect([...speed.options].map((option) => option.text)).toEqual(["0.5×", "0.75×", "1×", "1.25×", "1.5×", "1.75×", "2×"]);
    fireEvent.change(speed, { target: { value: "1.5" } });
    const audio = container.querySelector("audio")!;
    expect(audio.playbackRate).toBe(1.5);
    await waitFor(() => expect(speed.value).toBe("1.5"));
    unmount();

    const again = renderWithProviders(<TranscriptView id="j1" />);
    await screen.findByRole("button", { name: /Good morning/ });
    expect(again.container.querySelector("audio")!.playbackRate).toBe(1.5);
    expect((within(controls()).getByLabelText("Playback speed") as HTMLSelectElement).value).toBe("1.5");
  });

  it("answers K, Space, J and L, and not while a name is typed", async () => {
    serve({ ...completed, speaker_mode: "2", speakers: { S1: "S1" }, segments: segments.map((s) => ({ ...s, speaker: "S1" })) });
    const { container } = renderWithProviders(<TranscriptView id="j1" />);
    const first = await screen.findByRole("button", { name: /Good morning/ });
    const audio = container.querySelector("audio")!;
    fireEvent.keyDown(document.body, { key: "l" });
    fireEvent.keyDown(document.body, { key: "L" });
    expect(audio.currentTime).toBe(10);
    fireEvent.keyDown(document.body, { key: "j" });
    expect(audio.currentTime).toBe(5);
    fireEvent.keyDown(document.body, { key: "k" });
    expect(paused).toBe(false);
    fireEvent.keyDown(first, { key: " " });
    expect(paused).toBe(true);
    expect(audio.currentTime).toBe(5);

    fireEvent.click(screen.getByRole("button", { name: "Rename S1" }));
    const name = screen.getByRole("textbox", { name: "Name of speaker S1" });
    fireEvent.keyDown(name, { key: "l" });
    fireEvent.keyDown(name, { key: "k" });
    expect(audio.currentTime).toBe(5);
    expect(paused).toBe(true);
  });

  it("lists the shortcuts in a popover opened by its button or ?, closed by Escape", async () => {
    serve(completed);
    renderWithProviders(<TranscriptView id="j1" />);
    await screen.findByRole("button", { name: /Good morning/ });
    const button = within(controls()).getByRole("button", { name: "Keyboard shortcuts" });
    expect(button.getAttribute("aria-expanded")).toBe("false");
    expect(screen.queryByRole("region", { name: "Keyboard shortcuts" })).toBeNull();
    fireEvent.click(button);
    const help = screen.getByRole("region", { name: "Keyboard shortcuts" });
    expect(button.getAttribute("aria-expanded")).toBe("true");
    expect([...help.querySelectorAll("dt")].map((term) => term.textContent)).toEqual(["Space or K", "J", "L", "?"]);
    expect([...help.querySelectorAll("dd")].map((term) => term.textContent)).toEqual([
      "Play or pause",
      "Back 5 seconds",
      "Forward 5 seconds",
      "Show or hide these shortcuts",
    ]);
    fireEvent.keyDown(document.body, { key: "Escape" });
    expect(screen.queryByRole("region", { name: "Keyboard shortcuts" })).toBeNull();
    fireEvent.keyDown(document.body, { key: "?" });
    expect(screen.getByRole("region", { name: "Keyboard shortcuts" })).toBeTruthy();
  });
});

describe("a run that starts over", () => {
  it("says the worker was lost and keeps the earlier text until the new run passes it", async () => {
    const running = transcription({ id: "j1", status: "processing", progress: 0.3, seq: 3, attempts: 1, segments: [] });
    serve(running);
    renderWithProviders(<TranscriptView id="j1" />);
    await waitFor(() => expect(FakeEventSource.open()).toHaveLength(1));
    const stream = FakeEventSource.open()[0]!;
    act(() => {
      stream.emit("progress", { id: "j1", seq: 4, status: "processing", progress: 0.6, segments: segments.slice(0, 2), segment: segments[1] });
    });
    await screen.findByRole("button", { name: /The meeting starts now/ });
    expect(screen.queryByRole("status", { name: /worker/ })).toBeNull();
    expect(screen.queryByText(/worker running this transcription stopped/)).toBeNull();

    act(() => {
      stream.emit("processing", { id: "j1", seq: 5, status: "processing", progress: 0, attempt: 2, restart_reason: "worker_lost" });
    });
    expect(await screen.findByText("The worker running this transcription stopped, so it started again from the beginning (attempt 2).")).toBeTruthy();
    expect(screen.getByText(/The text recognised before stays until the new run reaches it/)).toBeTruthy();
    const kept = screen.getByRole("list", { name: "Text of the run that stopped" });
    expect(within(kept).getAllByRole("listitem").map((item) => item.textContent)).toEqual(["0:00Good morning.", "0:04The meeting starts now."]);
    expect(screen.queryByRole("button", { name: /Good morning/ })).toBeNull();

    act(() => {
      stream.emit("progress", { id: "j1", seq: 6, status: "processing", progress: 0.3, segments: [segments[0]!], segment: segments[0] });
    });
    await screen.findByRole("button", { name: /Good morning/ });
    expect(within(screen.getByRole("list", { name: "Text of the run that stopped" })).getAllByRole("listitem")).toHaveLength(1);

    act(() => {
      stream.emit("progress", { id: "j1", seq: 7, status: "processing", progress: 0.6, segments: [segments[1]!], segment: segments[1] });
    });
    await screen.findByRole("button", { name: /The meeting starts now/ });
    expect(screen.queryByRole("list", { name: "Text of the run that stopped" })).toBeNull();
    expect(screen.queryByText(/The text recognised before stays/)).toBeNull();
    expect(screen.getByText(/started again from the beginning/)).toBeTruthy();
  });

  it("shows the estimated end while it runs", async () => {
    const finishes = new Date(Date.now() + 3 * 60_000 + 10_000).toISOString();
    serve(transcription({ id: "j1", status: "processing", progress: 0.3, seq: 3, attempts: 1, eta: { starts_at: null, finishes_at: finishes } }));
    renderWithProviders(<TranscriptView id="j1" />);
    expect(await screen.findByText("Done in about 3 min")).toBeTruthy();
  });
});

describe("an address that cannot be a transcription", () => {
  it("shows the same page as an unknown id, without asking the server", async () => {
    const calls = serve(completed);
    window.history.replaceState(null, "", "/transcriptions/not-a-uuid");
    renderWithProviders(<Shell />);
    expect(await screen.findByRole("heading", { name: "Transcript not found" })).toBeTruthy();
    expect(screen.getByText("There is no transcription with this address.")).toBeTruthy();
    expect(calls.filter((call) => call.url.startsWith("/api/transcriptions"))).toEqual([]);
    expect(document.title).toContain("Transcript not found");
  });
});

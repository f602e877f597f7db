import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { UploadHandle, UploadOutcome } from "../api/client";
import { DEFAULT_UPLOAD_OPTIONS, type UploadOptions } from "../uploadOptions";
import { UPLOADS_STORAGE_KEY } from "../state/UploadsProvider";
import { FakeEventSource, modelInfo, transcription } from "../test/fakes";
import { renderWithProviders } from "../test/render";
import { UploadView } from "./UploadView";

interface PendingUpload {
  file: File;
  options: UploadOptions;
  progress: (loaded: number, total: number) => void;
  finish: (outcome: UploadOutcome) => void;
}

function fakeUploads() {
  const pending: PendingUpload[] = [];
  const upload = vi.fn((file: File, options: UploadOptions, progress: (loaded: number, total: number) => void): UploadHandle => {
    let finish: (outcome: UploadOutcome) => void = () => undefined;
    const result = new Promise<UploadOutcome>((resolve) => {
      finish = resolve;
    });
    pending.push({ file, options, progress, finish });
    return { result, abort: () => finish({ kind: "aborted" }) };
  });
  return { upload, pending };
}

function file(name: string, size = 1000, type = "audio/mpeg"): File {
  return new File([new Uint8Array(size)], name, { type });
}

function row(name: string): HTMLElement {
  const link = screen.queryByRole("link", { name });
  const element = (link ?? screen.getByText(name)).closest("li");
  if (!element) throw new Error(`no row for ${name}`);
  return element;
}

beforeEach(() => {
  FakeEventSource.reset();
  window.history.replaceState(null, "", "/");
});

describe("UploadView", () => {
  it("uploads each file on its own, shows a rejection, and follows the others on one stream", async () => {
    const { upload, pending } = fakeUploads();
    const storage = window.localStorage;
    renderWithProviders(<UploadView />, { upload, storage });

    fireEvent.change(screen.getByLabelText("Language"), { target: { value: "en" } });
    fireEvent.click(screen.getByLabelText("Word timestamps"));
    const precise = screen.getByLabelText("Precise timestamps") as HTMLInputElement;
    expect(precise.checked).toBe(false);
    expect(precise.getAttribute("aria-describedby")).toBeTruthy();
    expect(document.getElementById(precise.getAttribute("aria-describedby")!)?.textContent).toMatch(/15 % slower/);
    fireEvent.click(precise);
    expect(precise.checked).toBe(true);
    fireEvent.change(screen.getByTestId("file-input"), {
      target: { files: [file("one.mp3"), file("two.wav"), file("notes.mp3", 10, "text/plain")] },
    });

    await waitFor(() => expect(pending).toHaveLength(3));
    expect(pending.map((item) => item.file.name)).toEqual(["one.mp3", "two.wav", "notes.mp3"]);
    expect(pending[0]!.options).toEqual({
      ...DEFAULT_UPLOAD_OPTIONS,
      language: "en",
      wordTimestamps: true,
      preciseTimestamps: true,
    });

    act(() => pending[0]!.progress(250, 1000));
    expect(within(row("one.mp3")).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("25");

    act(() => {
      pending[2]!.finish({ kind: "rejected", error: { code: "unsupported_media", message: "No audio stream in this file." } });
      pending[0]!.finish({ kind: "accepted", transcription: transcription({ id: "j1", filename: "one.mp3", seq: 1 }) });
      pending[1]!.finish({ kind: "accepted", transcription: transcription({ id: "j2", filename: "two.wav", seq: 1 }) });
    });

    expect(await within(row("notes.mp3")).findByText("No audio stream in this file.")).toBeTruthy();

    await waitFor(() => expect(FakeEventSource.open()).toHaveLength(1));
    const stream = FakeEventSource.open()[0]!;
    expect(stream.ids).toEqual(["j1", "j2"]);

    act(() => {
      stream.accept();
      stream.emit("processing", { id: "j1", seq: 2, status: "processing", progress: 0, attempt: 1 });
      stream.emit("progress", {
        id: "j1",
        seq: 3,
        status: "processing",
        progress: 0.6,
        segment: { index: 0, start: 0, end: 1, text: " Hello from one." },
      });
    });
    expect(within(row("one.mp3")).getByRole("progressbar", { name: /Transcription progress/ }).getAttribute("aria-valuenow")).toBe("60");
    expect(within(row("one.mp3")).getByRole("region").textContent).toBe("Hello from one.");

    act(() => {
      stream.emit("completed", { id: "j1", seq: 4, status: "completed", progress: 1, text: "Hello from one." });
    });
    expect(within(row("one.mp3")).getByText("Completed")).toBeTruthy();

    // j1 is done: the one stream is reopened for j2 alone
    await waitFor(() => expect(FakeEventSource.open()[0]?.ids).toEqual(["j2"]));
    expect(FakeEventSource.open()).toHaveLength(1);
    expect(FakeEventSource.open()[0]!.since).toEqual({ j2: 1 });

    const stored = JSON.parse(storage.getItem(UPLOADS_STORAGE_KEY) ?? "[]") as Array<{ jobId: string | null; phase: string }>;
    expect(stored.map((entry) => `${entry.phase}:${entry.jobId}`).sort()).toEqual(["accepted:j1", "accepted:j2", "rejected:null"]);
  });

  it("remembers the options, precise timestamps off unless chosen", async () => {
    const { upload, pending } = fakeUploads();
    window.localStorage.setItem("soundscripter.uploadOptions.v1", JSON.stringify({ language: "de", task: "translate", wordTimestamps: true }));
    const first = renderWithProviders(<UploadView />, { upload });
    expect((screen.getByLabelText("Precise timestamps") as HTMLInputElement).checked).toBe(false);
    fireEvent.click(screen.getByLabelText("Precise timestamps"));
    first.unmount();

    renderWithProviders(<UploadView />, { upload });
    expect((screen.getByLabelText("Precise timestamps") as HTMLInputElement).checked).toBe(true);
    fireEvent.change(screen.getByTestId("file-input"), { target: { files: [file("later.mp3")] } });
    await waitFor(() => expect(pending).toHaveLength(1));
    expect(pending[0]!.options).toEqual({
      ...DEFAULT_UPLOAD_OPTIONS,
      language: "de",
      task: "translate",
      wordTimestamps: true,
      preciseTimestamps: true,
    });
  });

  it("offers the served models; the language list and Translate only for a multilingual one", async () => {
    const { upload, pending } = fakeUploads();
    const models = [
      modelInfo({ name: "tiny.en", speed: 60 }),
      modelInfo({ name: "base", languages: ["de", "en", "fr"], workers: 0 }),
    ];
    const loadModels = vi.fn(async () => ({ items: models }));
    renderWithProviders(<UploadView loadModels={loadModels} />, { upload });

    const picker = (await screen.findByLabelText("Model")) as HTMLSelectElement;
    expect(Array.from(picker.options).map((option) => option.textContent)).toEqual([
      "tiny.en — English only",
      "base — 3 languages",
    ]);
    expect(picker.value).toBe("tiny.en");
    expect(screen.getByText(/about 1 min per hour of audio on this server/)).toBeTruthy();
    expect(screen.queryByLabelText("Language")).toBeNull();
    expect(screen.queryByRole("radiogroup", { name: "Task" })).toBeNull();
    expect(screen.getByText("tiny.en transcribes English only.")).toBeTruthy();

    fireEvent.change(picker, { target: { value: "base" } });
    expect(screen.getByText(/Speed not measured on this server yet\. No worker serves it right now/)).toBeTruthy();
    const language = screen.getByLabelText("Language") as HTMLSelectElement;
    expect(Array.from(language.options).map((option) => option.value)).toEqual(["", "en", "fr", "de"]);
    fireEvent.change(language, { target: { value: "fr" } });
    fireEvent.click(screen.getByLabelText("Translate to English"));
    expect(screen.getByText(/The gist, in English/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Speakers"), { target: { value: "2" } });
    fireEvent.click(screen.getByLabelText("High"));
    fireEvent.change(screen.getByTestId("file-input"), { target: { files: [file("french.mp3")] } });
    await waitFor(() => expect(pending).toHaveLength(1));
    expect(pending[0]!.options).toEqual({
      ...DEFAULT_UPLOAD_OPTIONS,
      model: "base",
      language: "fr",
      task: "translate",
      speakers: "2",
      priority: "high",
    });

    // Back on the English-only model, the French translation is not sent.
    fireEvent.change(screen.getByLabelText("Model"), { target: { value: "tiny.en" } });
    fireEvent.change(screen.getByTestId("file-input"), { target: { files: [file("english.mp3")] } });
    await waitFor(() => expect(pending).toHaveLength(2));
    expect(pending[1]!.options).toMatchObject({ model: "tiny.en", language: "", task: "transcribe" });
  });

  it("asks before leaving while files are being sent, and refuses an empty file at once", async () => {
    const { upload, pending } = fakeUploads();
    renderWithProviders(<UploadView />, { upload });
    const leave = () => {
      const event = new Event("beforeunload", { cancelable: true });
      window.dispatchEvent(event);
      return event.defaultPrevented;
    };
    expect(leave()).toBe(false);
    fireEvent.change(screen.getByTestId("file-input"), { target: { files: [file("talk.mp3"), file("empty.wav", 0)] } });
    expect(await within(row("empty.wav")).findByText(/This file is empty/)).toBeTruthy();
    await waitFor(() => expect(pending).toHaveLength(1));
    expect(pending[0]!.file.name).toBe("talk.mp3");
    expect(leave()).toBe(true);
    act(() => pending[0]!.finish({ kind: "accepted", transcription: transcription({ id: "j1", filename: "talk.mp3" }) }));
    await waitFor(() => expect(leave()).toBe(false));
  });

  it("shows an empty state before anything is added", () => {
    renderWithProviders(<UploadView />);
    expect(screen.getByText("Nothing uploaded yet")).toBeTruthy();
  });

  it("opens the file picker from the keyboard", () => {
    renderWithProviders(<UploadView />);
    const input = screen.getByTestId("file-input") as HTMLInputElement;
    const click = vi.spyOn(input, "click").mockImplementation(() => undefined);
    const zone = screen.getByRole("button", { name: /^Drop audio or video files here/ });
    fireEvent.keyDown(zone, { key: "Enter" });
    fireEvent.keyDown(zone, { key: " " });
    expect(click).toHaveBeenCalledTimes(2);
  });

  it("accepts dropped files", async () => {
    const { upload, pending } = fakeUploads();
    renderWithProviders(<UploadView />, { upload });
    const zone = screen.getByRole("button", { name: /^Drop audio or video files here/ });
    fireEvent.drop(zone, { dataTransfer: { files: [file("dropped.ogg")], types: ["Files"] } });
    await waitFor(() => expect(pending).toHaveLength(1));
    expect(screen.getByText("dropped.ogg")).toBeTruthy();
  });

  it("restores accepted uploads remembered from an earlier visit", async () => {
    window.localStorage.setItem(
      UPLOADS_STORAGE_KEY,
      JSON.stringify([{ jobId: "j9", filename: "earlier.mp3", size: 5, addedAt: 1 }]),
    );
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(JSON.stringify(transcription({ id: "j9", filename: "earlier.mp3", status: "processing", progress: 0.3, seq: 5, attempts: 1 })), { status: 200 })),
    );
    renderWithProviders(<UploadView />, { storage: window.localStorage });
    expect(await screen.findByRole("link", { name: "earlier.mp3" })).toBeTruthy();
    await waitFor(() => expect(FakeEventSource.open()[0]?.ids).toEqual(["j9"]));
  });
});

import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import baseCss from "../../styles/base.css?raw";
import speakersCss from "../../styles/speakers.css?raw";
import type { Segment, Transcription } from "../../api/types";
import { FakeEventSource, jsonResponse, transcription } from "../../test/fakes";
import { renderWithProviders } from "../../test/render";
import { SPEAKER_COLOURS, speakerColour, speakerIds, speakerName, speakersErrorText } from "./speakers";
import { TranscriptView } from "./TranscriptView";

const segments: Segment[] = [
  { index: 0, start: 0, end: 1.5, text: " Good morning.", speaker: "S1" },
  { index: 1, start: 1.5, end: 3, text: " Morning, how are you?", speaker: "S2" },
  { index: 2, start: 3, end: 4.25, text: " Fine, thanks.", speaker: "S1" },
];

const labelled: Transcription = transcription({
  id: "j1",
  filename: "dialog.wav",
  status: "completed",
  progress: 1,
  language: "en",
  seq: 9,
  speaker_mode: "2",
  speakers: { S1: "S1", S2: "S2" },
  text: "Good morning. Morning, how are you? Fine, thanks.",
  segments,
});

interface Call {
  method: string;
  url: string;
  body: unknown;
}

type Route = (call: Call) => Response | undefined;

function stubFetch(route: Route): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const call = { method: init?.method ?? "GET", url, body: init?.body ? JSON.parse(String(init.body)) : undefined };
      calls.push(call);
      return route(call) ?? jsonResponse(404, { error: { code: "not_found", message: "No such endpoint." } });
    }),
  );
  return calls;
}

/** GET answers `record`; PATCH answers `patch(body)` (the record renamed, unless it says otherwise). */
function serve(record: Transcription, patch?: (body: unknown) => Response): Call[] {
  return stubFetch((call) => {
    if (call.url !== "/api/transcriptions/j1") return undefined;
    if (call.method === "GET") return jsonResponse(200, record);
    if (call.method === "PATCH") {
      if (patch) return patch(call.body);
      const names = (call.body as { speakers: Record<string, string> }).speakers;
      const { segments: _segments, ...summary } = record;
      return jsonResponse(200, { ...summary, speakers: { ...record.speakers, ...names } });
    }
    return undefined;
  });
}

function segmentButton(text: RegExp): HTMLElement {
  return screen.getByRole("button", { name: text });
}

function speakersPanel(): HTMLElement {
  return screen.getByRole("region", { name: "Speakers" });
}

beforeEach(() => {
  FakeEventSource.reset();
  window.history.replaceState(null, "", "/transcriptions/j1");
});

describe("speaker helpers", () => {
  it("gives each speaker id a stable colour: S1 → 1 … S8 → 8, S9 → 1 again, other ids within range", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => speakerColour(`S${n}`))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1]);
    expect(speakerColour("narrator")).toBe(speakerColour("narrator"));
    for (const id of ["narrator", "", "S", "left"]) {
      expect(speakerColour(id)).toBeGreaterThanOrEqual(1);
      expect(speakerColour(id)).toBeLessThanOrEqual(SPEAKER_COLOURS);
    }
  });

  it("orders ids by number and names a speaker by its id until renamed", () => {
    expect(speakerIds({ S10: "S10", S2: "Bob", S1: "S1", x: "x" })).toEqual(["S1", "S2", "S10", "x"]);
    expect(speakerIds(null)).toEqual([]);
    expect(speakerName({ S1: "Alice" }, "S1")).toBe("Alice");
    expect(speakerName({ S1: "" }, "S1")).toBe("S1");
    expect(speakerName(null, "S2")).toBe("S2");
  });

  it("says why there are no speaker labels once, whether or not the reason already says it", () => {
    expect(speakersErrorText("Speaker labels could not be made: no speech")).toBe("Speaker labels could not be made: no speech");
    expect(speakersErrorText("no speech")).toBe("Speaker labels could not be made: no speech");
  });
});

/** `--name: #rrggbb` declarations of the first `:root` block after `after` (or the first one). */
function rootColours(css: string, after?: string): Record<string, string> {
  const from = after ? css.indexOf(after) : 0;
  expect(from).toBeGreaterThanOrEqual(0);
  const block = /:root\s*\{([^}]*)\}/.exec(css.slice(from));
  expect(block).not.toBeNull();
  return Object.fromEntries([...block![1]!.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;/g)].map((m) => [m[1]!, m[2]!]));
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const v = parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high! + 0.05) / (low! + 0.05);
}

describe("speaker colours", () => {
  const dark = "@media (prefers-color-scheme: dark)";
  const schemes = [
    { name: "light", speakers: rootColours(speakersCss), page: rootColours(baseCss) },
    { name: "dark", speakers: rootColours(speakersCss, dark), page: rootColours(baseCss, dark) },
  ];

  it.each(schemes)("keep 4.5:1 against the transcript's backgrounds in the $name scheme", ({ speakers, page }) => {
    for (let n = 1; n <= SPEAKER_COLOURS; n++) {
      const colour = speakers[`speaker-${n}`];
      expect(colour, `--speaker-${n}`).toBeDefined();
      for (const background of ["surface", "accent-soft", "surface-muted"]) {
        expect(page[background], background).toBeDefined();
        expect(contrast(colour!, page[background]!), `--speaker-${n} on --${background}`).toBeGreaterThanOrEqual(4.5);
      }
    }
  });

  it("are told apart in each scheme and each has its class", () => {
    for (const { speakers } of schemes) {
      const colours = Array.from({ length: SPEAKER_COLOURS }, (_, i) => speakers[`speaker-${i + 1}`]?.toLowerCase());
      expect(new Set(colours).size).toBe(SPEAKER_COLOURS);
    }
    for (let n = 1; n <= SPEAKER_COLOURS; n++) expect(speakersCss).toContain(`.speaker--${n} { --speaker: var(--speaker-${n}); }`);
  });
});

describe("TranscriptView speakers", () => {
  it("shows each segment's speaker as text with the same colour for the same speaker, and lists the speakers", async () => {
    serve(labelled);
    renderWithProviders(<TranscriptView id="j1" />);
    const first = await screen.findByRole("button", { name: /Good morning/ });
    const tag = (button: HTMLElement) => button.querySelector(".segment__speaker .speaker")!;
    expect(tag(first).textContent).toBe("S1");
    expect(tag(segmentButton(/how are you/)).textContent).toBe("S2");
    expect(tag(segmentButton(/Fine, thanks/)).textContent).toBe("S1");
    expect(tag(first).className).toBe("speaker speaker--1");
    expect(tag(segmentButton(/how are you/)).className).toBe("speaker speaker--2");
    expect(tag(segmentButton(/Fine, thanks/)).className).toBe(tag(first).className);

    const items = within(speakersPanel()).getAllByRole("listitem");
    expect(items.map((item) => item.querySelector(".speaker")?.textContent)).toEqual(["S1", "S2"]);
    expect(items.map((item) => item.querySelector(".speaker")?.className)).toEqual(["speaker speaker--1", "speaker speaker--2"]);
  });

  it("shows no speakers for a transcript without them", async () => {
    serve({ ...labelled, speaker_mode: "off", speakers: null, segments: segments.map(({ speaker: _s, ...rest }) => rest) });
    renderWithProviders(<TranscriptView id="j1" />);
    await screen.findByRole("button", { name: /Good morning/ });
    expect(screen.queryByRole("region", { name: "Speakers" })).toBeNull();
    expect(document.querySelector(".segment__speaker")).toBeNull();
  });

  it("renames a speaker with Enter: the PATCH carries the name and every line shows it", async () => {
    const calls = serve(labelled);
    renderWithProviders(<TranscriptView id="j1" />);
    await screen.findByRole("button", { name: /Good morning/ });
    fireEvent.click(within(speakersPanel()).getByRole("button", { name: "Rename S1" }));
    const input = within(speakersPanel()).getByRole("textbox", { name: "Name of speaker S1" });
    expect((input as HTMLInputElement).value).toBe("S1");
    expect(document.activeElement).toBe(input);
    fireEvent.change(input, { target: { value: "  Alice " } });
    fireEvent.keyDown(input, { key: "Enter" });

    await waitFor(() => expect(within(speakersPanel()).queryByRole("textbox")).toBeNull());
    expect(calls.filter((call) => call.method === "PATCH")).toEqual([
      { method: "PATCH", url: "/api/transcriptions/j1", body: { speakers: { S1: "Alice" } } },
    ]);
    expect(segmentButton(/Good morning/).querySelector(".speaker")!.textContent).toBe("Alice");
    expect(segmentButton(/Fine, thanks/).querySelector(".speaker")!.textContent).toBe("Alice");
    expect(segmentButton(/how are you/).querySelector(".speaker")!.textContent).toBe("S2");
    expect(segmentButton(/Fine, thanks/).querySelector(".speaker")!.className).toBe("speaker speaker--1");
    const panel = speakersPanel();
    expect(within(panel).getByRole("button", { name: "Rename Alice" })).toBeTruthy();
    expect(within(panel).getByText("S1").className).toBe("speakers__id");
  });

  it("renames with the Save button too", async () => {
    const calls = serve(labelled);
    renderWithProviders(<TranscriptView id="j1" />);
    await screen.findByRole("button", { name: /Good morning/ });
    fireEvent.click(within(speakersPanel()).getByRole("button", { name: "Rename S2" }));
    fireEvent.change(within(speakersPanel()).getByRole("textbox"), { target: { value: "Bob" } });
    fireEvent.click(within(speakersPanel()).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(segmentButton(/how are you/).querySelector(".speaker")!.textContent).toBe("Bob"));
    expect(calls.filter((call) => call.method === "PATCH").map((call) => call.body)).toEqual([{ speakers: { S2: "Bob" } }]);
  });

  it("cancels a rename with Escape without asking the server", async () => {
    const calls = serve(labelled);
    renderWithProviders(<TranscriptView id="j1" />);
    await screen.findByRole("button", { name: /Good morning/ });
    fireEvent.click(within(speakersPanel()).getByRole("button", { name: "Rename S1" }));
    const input = within(speakersPanel()).getByRole("textbox");
    fireEvent.change(input, { target: { value: "Alice" } });
    fireEvent.keyDown(input, { key: "Escape" });
    expect(within(speakersPanel()).queryByRole("textbox")).toBeNull();
    expect(within(speakersPanel()).getByRole("button", { name: "Rename S1" })).toBeTruthy();
    expect(segmentButton(/Good morning/).querySelector(".speaker")!.textContent).toBe("S1");
    expect(calls.some((call) => call.method === "PATCH")).toBe(false);
  });

  it("shows the API's message when a name is refused and keeps the name being edited", async () => {
    const message = "A speaker's name has no control characters.";
    serve(labelled, () => jsonResponse(422, { error: { code: "invalid_speakers", message } }));
    renderWithProviders(<TranscriptView id="j1" />);
    await screen.findByRole("button", { name: /Good morning/ });
    fireEvent.click(within(speakersPanel()).getByRole("button", { name: "Rename S1" }));
    const input = within(speakersPanel()).getByRole("textbox");
    fireEvent.change(input, { target: { value: "Al\u0007ice" } });
    fireEvent.keyDown(input, { key: "Enter" });
    expect((await within(speakersPanel()).findByRole("alert")).textContent).toBe(message);
    expect((within(speakersPanel()).getByRole("textbox") as HTMLInputElement).value).toBe("Al\u0007ice");
    expect(segmentButton(/Good morning/).querySelector(".speaker")!.textContent).toBe("S1");

    fireEvent.keyDown(within(speakersPanel()).getByRole("textbox"), { key: "Escape" });
    expect(within(speakersPanel()).queryByRole("alert")).toBeNull();
  });

  it("says why speaker labels are missing while the transcript stays", async () => {
    serve({
      ...labelled,
      speakers: null,
      speakers_error: "Speaker labels could not be made: the recording has no speech long enough to tell voices apart",
      segments: segments.map(({ speaker: _s, ...rest }) => rest),
    });
    renderWithProviders(<TranscriptView id="j1" />);
    expect(
      await screen.findByText("Speaker labels could not be made: the recording has no speech long enough to tell voices apart"),
    ).toBeTruthy();
    expect(screen.getByText("The transcript itself is complete.")).toBeTruthy();
    expect(screen.getAllByRole("button", { name: /Good morning|how are you|Fine, thanks/ })).toHaveLength(3);
    expect(screen.getByRole("link", { name: /SRT/ })).toBeTruthy();
    expect(screen.queryByRole("region", { name: "Speakers" })).toBeNull();
  });

  it("says it is labelling speakers while a processing event names the diarizing stage", async () => {
    const running = transcription({ id: "j1", status: "processing", progress: 0.5, seq: 3, attempts: 1, speaker_mode: "2" });
    serve(running);
    renderWithProviders(<TranscriptView id="j1" />);
    expect(await screen.findByText("Transcribing — segments appear as they are recognised")).toBeTruthy();
    await waitFor(() => expect(FakeEventSource.open()).toHaveLength(1));
    const stream = FakeEventSource.open()[0]!;
    act(() => {
      stream.emit("progress", { id: "j1", seq: 4, status: "processing", progress: 0.8, segment: segments[0] });
    });
    expect(screen.getByText("Transcribing — segments appear as they are recognised")).toBeTruthy();
    act(() => {
      stream.emit("processing", { id: "j1", seq: 5, status: "processing", progress: 0.85, stage: "diarizing" });
    });
    expect(screen.getByText("Labelling speakers…")).toBeTruthy();
    expect(screen.getByRole("progressbar", { name: "Transcription progress" }).getAttribute("aria-valuenow")).toBe("85");
    expect(screen.queryByText("Transcribing — segments appear as they are recognised")).toBeNull();
    act(() => {
      stream.emit("processing", { id: "j1", seq: 6, status: "processing", progress: 0.9, stage: "diarizing" });
    });
    expect(screen.getByText("Labelling speakers…")).toBeTruthy();
    act(() => {
      stream.emit("completed", { id: "j1", seq: 7, status: "completed", progress: 1, text: "Good morning." });
    });
    await waitFor(() => expect(screen.queryByText("Labelling speakers…")).toBeNull());
  });
});

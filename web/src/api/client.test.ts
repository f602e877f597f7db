import { describe, expect, it, vi } from "vitest";
import { jsonResponse, transcription } from "../test/fakes";
import { DEFAULT_UPLOAD_OPTIONS, type UploadOptions } from "../uploadOptions";
import {
  ApiError,
  apiUrl,
  errorFromResponse,
  eventsUrl,
  getTranscription,
  interpretUploadResponse,
  listTranscriptions,
  transcriptUrl,
  uploadFile,
} from "./client";

describe("URLs", () => {
  it("leaves out empty parameters", () => {
    expect(apiUrl("/api/transcriptions", { limit: 25, q: "", text: undefined, status: "completed" })).toBe(
      "/api/transcriptions?limit=25&status=completed",
    );
  });

  it("names one multiplexed stream for many jobs", () => {
    expect(eventsUrl(["a", "b", "c"])).toBe("/api/events?ids=a%2Cb%2Cc");
    expect(transcriptUrl("x y", "srt")).toBe("/api/transcriptions/x%20y/transcript?format=srt");
  });
});

describe("errorFromResponse", () => {
  it("reads the API's error shape", () => {
    const error = errorFromResponse(409, JSON.stringify({ error: { code: "invalid_state", message: "Already completed." } }));
    expect(error).toMatchObject({ status: 409, code: "invalid_state", message: "Already completed." });
  });

  it("falls back to a message for the status", () => {
    expect(errorFromResponse(502, "<html>Bad Gateway</html>").message).toMatch(/unavailable/);
  });
});

describe("interpretUploadResponse", () => {
  it("accepts the job of a 202", () => {
    const body = { items: [transcription({ id: "j1" })], rejected: [] };
    expect(interpretUploadResponse(202, JSON.stringify(body))).toMatchObject({ kind: "accepted", transcription: { id: "j1" } });
  });

  it("reports rejected[] of a 202", () => {
    const body = { items: [], rejected: [{ filename: "a.mp3", error: { code: "unsupported_media", message: "Not audio." } }] };
    expect(interpretUploadResponse(202, JSON.stringify(body))).toEqual({
      kind: "rejected",
      error: { code: "unsupported_media", message: "Not audio." },
    });
  });

  it.each([413, 415, 422])("reports the error body of a %i", (status) => {
    const body = { error: { code: "bad_file", message: `Refused with ${status}` } };
    expect(interpretUploadResponse(status, JSON.stringify(body))).toEqual({
      kind: "rejected",
      error: { code: "bad_file", message: `Refused with ${status}` },
    });
  });

  it("treats network and server errors as worth another try", () => {
    expect(interpretUploadResponse(0, "").kind).toBe("failed");
    expect(interpretUploadResponse(503, "").kind).toBe("failed");
  });
});

describe("requests", () => {
  it("sends the list query and parses the page", async () => {
    const fetchMock = vi.fn(async () => jsonResponse(200, { items: [transcription({ id: "a" })], next_cursor: "c2" }));
    vi.stubGlobal("fetch", fetchMock);
    const page = await listTranscriptions({ limit: 10, q: "meet", status: "completed" });
    expect(page.next_cursor).toBe("c2");
    expect(fetchMock).toHaveBeenCalledWith(
      "/api/transcriptions?limit=10&q=meet&status=completed",
      expect.objectContaining({ method: "GET" }),
    );
  });

  it("turns a 404 into an ApiError", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => jsonResponse(404, { error: { code: "not_found", message: "No transcription with this id." } })));
    await expect(getTranscription("nope")).rejects.toMatchObject({ status: 404, isNotFound: true });
  });

  it("turns a refused connection into a network ApiError", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    const error = await getTranscription("x").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).isNetwork).toBe(true);
  });
});

class FakeXhr {
  static sent: FakeXhr[] = [];
  upload: { onprogress: ((event: ProgressEvent) => void) | null } = { onprogress: null };
  status = 0;
  responseText = "";
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  onabort: (() => void) | null = null;
  method = "";
  url = "";
  body: FormData | null = null;

  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }

  setRequestHeader() {}

  send(body: FormData) {
    this.body = body;
    FakeXhr.sent.push(this);
  }

  abort() {
    this.onabort?.();
  }
}

describe("uploadFile", () => {
  function send(options: UploadOptions): FormData {
    FakeXhr.sent = [];
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    uploadFile(new File(["x"], "talk.mp3", { type: "audio/mpeg" }), options, () => undefined);
    expect(FakeXhr.sent).toHaveLength(1);
    expect(FakeXhr.sent[0]).toMatchObject({ method: "POST", url: "/api/transcriptions" });
    return FakeXhr.sent[0]!.body!;
  }

  it("sends the options as form fields", () => {
    const form = send({
      ...DEFAULT_UPLOAD_OPTIONS,
      model: "base",
      language: "fr",
      task: "translate",
      speakers: "2",
      priority: "high",
      wordTimestamps: true,
      preciseTimestamps: true,
    });
    expect((form.get("files") as File).name).toBe("talk.mp3");
    expect(form.get("language")).toBe("fr");
    expect(form.get("task")).toBe("translate");
    expect(form.get("word_timestamps")).toBe("true");
    expect(form.get("precise_timestamps")).toBe("true");
    expect(form.get("model")).toBe("base");
    expect(form.get("speakers")).toBe("2");
    expect(form.get("priority")).toBe("high");
  });

  it("sends precise_timestamps=false by default; no language, model, speakers or priority unless chosen", () => {
    const form = send(DEFAULT_UPLOAD_OPTIONS);
    expect(form.has("language")).toBe(false);
    expect(form.has("model")).toBe(false);
    expect(form.has("speakers")).toBe(false);
    expect(form.has("priority")).toBe(false);
    expect(form.get("word_timestamps")).toBe("false");
    expect(form.get("precise_timestamps")).toBe("false");
  });
});

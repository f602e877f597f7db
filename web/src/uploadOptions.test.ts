import { describe, expect, it } from "vitest";
import { modelInfo as model } from "./test/fakes";
import {
  chosenModel,
  DEFAULT_UPLOAD_OPTIONS,
  modelReach,
  optionsForModel,
  limitsText,
  parseUploadOptions,
  speedHint,
} from "./uploadOptions";

const english = model({ name: "tiny.en" });
const base = model({ name: "base", languages: Array.from({ length: 99 }, (_, i) => `l${i}`).concat("fr") });

describe("upload options and models", () => {
  it("says what each model reaches", () => {
    expect(modelReach(english)).toBe("English only");
    expect(modelReach(model({ name: "base", languages: Array.from({ length: 99 }, (_, i) => `l${i}`) }))).toBe(
      "99 languages",
    );
  });

  it("takes the server's default model (the first) unless another served one is chosen", () => {
    expect(chosenModel(DEFAULT_UPLOAD_OPTIONS, null)).toBeNull();
    expect(chosenModel(DEFAULT_UPLOAD_OPTIONS, [english, base])?.name).toBe("tiny.en");
    expect(chosenModel({ ...DEFAULT_UPLOAD_OPTIONS, model: "base" }, [english, base])?.name).toBe("base");
    expect(chosenModel({ ...DEFAULT_UPLOAD_OPTIONS, model: "gone" }, [english, base])?.name).toBe("tiny.en");
  });

  it("drops a language or translation the chosen model cannot do", () => {
    const french = { ...DEFAULT_UPLOAD_OPTIONS, model: "tiny.en", language: "fr", task: "translate" as const };
    expect(optionsForModel(french, english)).toMatchObject({ model: "tiny.en", language: "", task: "transcribe" });
    const onBase = { ...french, model: "base" };
    expect(optionsForModel(onBase, base)).toBe(onBase);
    expect(optionsForModel({ ...onBase, model: "gone" }, english)).toMatchObject({ model: "tiny.en", language: "" });
    expect(optionsForModel(french, null)).toBe(french);
  });

  it("tells the measured speed as time per hour of audio", () => {
    expect(speedHint(model({ name: "tiny.en", speed: null }))).toBeNull();
    expect(speedHint(model({ name: "tiny.en", speed: 60 }))).toBe("about 1 min per hour of audio on this server");
    expect(speedHint(model({ name: "base", speed: 4 }))).toBe("about 15 min per hour of audio on this server");
    expect(speedHint(model({ name: "big", speed: 0.5 }))).toBe("about 2 h per hour of audio on this server");
    expect(speedHint(model({ name: "fast", speed: 120 }))).toBe("under 1 min per hour of audio on this server");
  });

  it("reads stored options back, unknown values taking their defaults", () => {
    expect(parseUploadOptions(null)).toEqual(DEFAULT_UPLOAD_OPTIONS);
    expect(parseUploadOptions("{nope")).toEqual(DEFAULT_UPLOAD_OPTIONS);
    expect(parseUploadOptions(JSON.stringify({ language: "de", task: "translate", speakers: "9", priority: "high" }))).toEqual({
      ...DEFAULT_UPLOAD_OPTIONS,
      language: "de",
      task: "translate",
      priority: "high",
    });
  });

  it("states the server's upload limits", () => {
    const limits = {
      max_upload_bytes: 2 * 1024 ** 3,
      max_duration_seconds: 4 * 3600,
      max_files_per_upload: 20,
      accepted_types: ["audio/*", "video/*"],
      accepted_extensions: [".mp3", ".wav", ".m4a"],
    };
    expect(limitsText(limits)).toBe("MP3, WAV, M4A and other audio or video · up to 2.0 GB and 4:00:00 per file · 20 files at a time");
  });
});

// The options the Upload view offers for new files, as the form keeps them (and remembers
// them in localStorage), and what the served models allow of them. `uploadForm` in
// ./api/client turns them into the upload form's fields.

import type { ModelInfo, UploadForm, UploadLimits } from "./api/types";
import { formatBytes, formatDuration } from "./format";

export type UploadTask = NonNullable<UploadForm["task"]>;
export type SpeakerMode = NonNullable<UploadForm["speakers"]>;
export type UploadPriority = "low" | "normal" | "high";

export interface UploadOptions {
  /** Empty string means the server's default model (its WHISPER_MODEL). */
  model: string;
  /** Empty string means automatic language detection. */
  language: string;
  task: UploadTask;
  speakers: SpeakerMode;
  priority: UploadPriority;
  wordTimestamps: boolean;
  preciseTimestamps: boolean;
}

export const UPLOAD_TASKS: readonly UploadTask[] = ["transcribe", "translate"];
export const SPEAKER_MODES: readonly SpeakerMode[] = ["off", "auto", "1", "2", "3", "4", "5", "6", "7", "8", "channels"];
export const UPLOAD_PRIORITIES: readonly UploadPriority[] = ["low", "normal", "high"];

export const DEFAULT_UPLOAD_OPTIONS: UploadOptions = {
  model: "",
  language: "",
  task: "transcribe",
  speakers: "off",
  priority: "normal",
  wordTimestamps: false,
  preciseTimestamps: false,
};

function oneOf<T extends string>(allowed: readonly T[], value: unknown, fallback: T): T {
  return allowed.includes(value as T) ? (value as T) : fallback;
}

/** Options read back from storage: anything missing or unknown takes its default. */
export function parseUploadOptions(raw: string | null): UploadOptions {
  if (!raw) return DEFAULT_UPLOAD_OPTIONS;
  try {
    const value = JSON.parse(raw) as Partial<Record<keyof UploadOptions, unknown>>;
    return {
      model: typeof value.model === "string" ? value.model : "",
      language: typeof value.language === "string" ? value.language : "",
      task: oneOf(UPLOAD_TASKS, value.task, "transcribe"),
      speakers: oneOf(SPEAKER_MODES, value.speakers, "off"),
      priority: oneOf(UPLOAD_PRIORITIES, value.priority, "normal"),
      wordTimestamps: value.wordTimestamps === true,
      preciseTimestamps: value.preciseTimestamps === true,
    };
  } catch {
    return DEFAULT_UPLOAD_OPTIONS;
  }
}

/** The model the options name: the chosen one if still served, else the server's default
 * (the first listed). Null before the models are known. */
export function chosenModel(options: UploadOptions, models: readonly ModelInfo[] | null): ModelInfo | null {
  if (!models || models.length === 0) return null;
  return models.find((model) => model.name === options.model) ?? models[0]!;
}

/** "English only" or "99 languages". */
export function modelReach(model: ModelInfo): string {
  return model.multilingual ? `${model.languages.length} languages` : "English only";
}

/** Whether translation into English can be asked of `model` (null: not known yet, offered). */
export function canTranslate(model: ModelInfo | null): boolean {
  return model === null || model.tasks.includes("translate");
}

/**
 * The options as they will be sent with `model`: a language or a task it cannot honour is
 * dropped (an English-only model transcribes English), so an upload is never refused for a
 * choice the form no longer shows.
 */
export function optionsForModel(options: UploadOptions, model: ModelInfo | null): UploadOptions {
  if (!model) return options;
  const language = options.language && !model.languages.includes(options.language) ? "" : options.language;
  const task = canTranslate(model) ? options.task : "transcribe";
  const name = options.model === model.name || options.model === "" ? options.model : model.name;
  if (language === options.language && task === options.task && name === options.model) return options;
  return { ...options, model: name, language, task };
}

/**
 * How long a model takes here, from its measured speed (seconds of audio per second of work):
 * "about 1 min per hour of audio on this server"; null before any job was measured.
 */
export function speedHint(model: ModelInfo): string | null {
  if (!model.speed || model.speed <= 0) return null;
  const minutesPerHour = 60 / model.speed;
  const amount =
    minutesPerHour < 1
      ? "under 1 min"
      : minutesPerHour < 90
        ? `about ${Math.round(minutesPerHour)} min`
        : `about ${Math.round(minutesPerHour / 6) / 10} h`;
  return `${amount} per hour of audio on this server`;
}

const COMMON_FORMATS = ["MP3", "WAV", "M4A", "MP4", "OGG", "FLAC"];

/** "MP3, WAV, M4A and other audio or video · up to 2.0 GB and 4:00:00 per file · 20 files at a time" */
export function limitsText(limits: UploadLimits): string {
  const names = limits.accepted_extensions.map((ext) => ext.replace(/^\./, "").toUpperCase());
  // The formats most recordings come in first, then the others in the server's order.
  const common = COMMON_FORMATS.filter((name) => names.includes(name));
  const shown = (common.length > 0 ? common : names).slice(0, 6);
  const formats = shown.length > 0 ? `${shown.join(", ")} and other audio or video` : "Audio or video";
  return `${formats} · up to ${formatBytes(limits.max_upload_bytes)} and ${formatDuration(limits.max_duration_seconds)} per file · ${limits.max_files_per_upload} files at a time`;
}

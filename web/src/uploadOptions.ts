// The options the Upload view offers for new files, as the form keeps them (and remembers
// them in localStorage); `uploadFile` turns them into the upload form's fields.

import type { UploadForm } from "./api/types";

export type UploadTask = NonNullable<UploadForm["task"]>;

export interface UploadOptions {
  /** Empty string means automatic language detection. */
  language: string;
  task: UploadTask;
  wordTimestamps: boolean;
  preciseTimestamps: boolean;
}

export const UPLOAD_TASKS: readonly UploadTask[] = ["transcribe", "translate"];

export const DEFAULT_UPLOAD_OPTIONS: UploadOptions = {
  language: "",
  task: "transcribe",
  wordTimestamps: false,
  preciseTimestamps: false,
};

// Names for the wire types of the SoundScripter HTTP API (v1).
//
// Every shape here is generated from the API's OpenAPI schema into ./schema.d.ts and
// ./states.generated.ts by `make web-types`; this module only gives them short names.
// Never write a wire field here by hand: change the Python model and regenerate.

import type { components, paths } from "./schema";
import type { EventType } from "./states.generated";

type Schemas = components["schemas"];

export type { EventType, JobStatus, TerminalStatus } from "./states.generated";

export type ErrorInfo = Schemas["ErrorOut"];
export type Segment = Schemas["SegmentOut"];

/** A transcription as listed, uploaded, cancelled or retried (no segments). */
export type TranscriptionSummary = Schemas["TranscriptionPublic"];
/** A transcription read on its own, with its segments. */
export type TranscriptionDetail = Schemas["TranscriptionDetail"];
/** Any record of a transcription the API sends: segments only in the detail. */
export type Transcription = TranscriptionSummary & Partial<Pick<TranscriptionDetail, "segments">>;

/** The body of `PATCH /api/transcriptions/{id}` (speaker names). */
export type TranscriptionChanges = Schemas["TranscriptionChanges"];
export type TranscriptionPage = Schemas["TranscriptionPage"];
export type UploadResponse = Schemas["UploadResult"];
export type RejectedFile = Schemas["Rejection"];
/** A model an upload may name, with what it can do and its measured speed. */
export type ModelInfo = Schemas["ModelPublic"];
export type ModelList = Schemas["ModelList"];
/** `POST /api/transcriptions/bulk`: one action on many transcriptions, and its answer. */
export type BulkAction = Schemas["BulkAction"];
export type BulkResults = Schemas["BulkResults"];
export type UploadLimits = Schemas["UploadLimits"];

/** The fields of the one-file upload form (`POST /api/transcriptions`, multipart). */
export type UploadForm = paths["/api/transcriptions"]["post"]["requestBody"]["content"]["multipart/form-data"];
/** The query of `GET /api/transcriptions`. */
export type ListQuery = NonNullable<paths["/api/transcriptions"]["get"]["parameters"]["query"]>;
/** The `format` of a transcript download. */
export type TranscriptFormat = NonNullable<
  NonNullable<paths["/api/transcriptions/{job_id}/transcript"]["get"]["parameters"]["query"]>["format"]
>;

/** The JSON `data` of one server-sent event. */
export type JobEventData = Schemas["JobEvent"];

/** One server-sent event as received: its `event:` name and its parsed `data`. */
export interface JobEvent {
  type: EventType;
  data: JobEventData;
}

// The library's filters and their place in the address (`/library?q=…&text=…&status=…`).

import { isJobStatus, type JobStatus } from "../../status";

export interface Filters {
  /** File name contains (case-insensitive). */
  q: string;
  /** Transcript text search. */
  text: string;
  status: JobStatus | "";
}

export const NO_FILTERS: Filters = { q: "", text: "", status: "" };

export function filtersFromSearch(search: string): Filters {
  const params = new URLSearchParams(search);
  const status = params.get("status") ?? "";
  return {
    q: params.get("q") ?? "",
    text: params.get("text") ?? "",
    status: isJobStatus(status) ? status : "",
  };
}

/** The query string for `filters` (with its `?`), empty when nothing is filtered. */
export function searchFromFilters(filters: Filters): string {
  const params = new URLSearchParams();
  if (filters.q) params.set("q", filters.q);
  if (filters.text) params.set("text", filters.text);
  if (filters.status) params.set("status", filters.status);
  const query = params.toString();
  return query ? `?${query}` : "";
}

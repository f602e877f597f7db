// The library's filters and order, and their place in the address
// (`/library?q=…&text=…&status=…&model=…&language=…&sort=…&order=…`).

import { isJobStatus, type JobStatus } from "../../status";
import type { ListQuery } from "../../api/types";

export type SortColumn = NonNullable<ListQuery["sort"]>;
export type SortOrder = "asc" | "desc";

export const SORT_COLUMNS: readonly SortColumn[] = ["created_at", "filename", "duration", "status"];

export interface Filters {
  /** File name contains (case-insensitive). */
  q: string;
  /** Transcript text search. */
  text: string;
  status: JobStatus | "";
  model: string;
  language: string;
  sort: SortColumn;
  order: SortOrder;
}

/** The server's own order for a column: newest and longest first, names and statuses A to Z. */
export function defaultOrder(sort: SortColumn): SortOrder {
  return sort === "created_at" || sort === "duration" ? "desc" : "asc";
}

export const NO_FILTERS: Filters = { q: "", text: "", status: "", model: "", language: "", sort: "created_at", order: "desc" };

export function filtersFromSearch(search: string): Filters {
  const params = new URLSearchParams(search);
  const status = params.get("status") ?? "";
  const sortParam = params.get("sort") as SortColumn | null;
  const sort = sortParam && SORT_COLUMNS.includes(sortParam) ? sortParam : "created_at";
  const orderParam = params.get("order");
  return {
    q: params.get("q") ?? "",
    text: params.get("text") ?? "",
    status: isJobStatus(status) ? status : "",
    model: params.get("model") ?? "",
    language: params.get("language") ?? "",
    sort,
    order: orderParam === "asc" || orderParam === "desc" ? orderParam : defaultOrder(sort),
  };
}

/** The query string for `filters` (with its `?`), empty when nothing is filtered or reordered. */
export function searchFromFilters(filters: Filters): string {
  const params = new URLSearchParams();
  if (filters.q) params.set("q", filters.q);
  if (filters.text) params.set("text", filters.text);
  if (filters.status) params.set("status", filters.status);
  if (filters.model) params.set("model", filters.model);
  if (filters.language) params.set("language", filters.language);
  if (filters.sort !== "created_at") params.set("sort", filters.sort);
  if (filters.order !== defaultOrder(filters.sort)) params.set("order", filters.order);
  const query = params.toString();
  return query ? `?${query}` : "";
}

/** Whether anything narrows the list (the order does not). */
export function isFiltered(filters: Filters): boolean {
  return Boolean(filters.q || filters.text || filters.status || filters.model || filters.language);
}

/** The list query for `filters`. */
export function listQuery(filters: Filters): ListQuery {
  const { q, text, status, model, language, sort, order } = filters;
  return {
    q: q || undefined,
    text: text || undefined,
    status: status || undefined,
    model: model || undefined,
    language: language || undefined,
    sort,
    order,
  };
}

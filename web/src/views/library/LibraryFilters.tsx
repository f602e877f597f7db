// The library's search form: file name, transcript text, status.

import { useId } from "react";
import { SearchIcon } from "../../components/Icons";
import { isJobStatus, JOB_STATUSES, STATUS_LABELS } from "../../status";
import type { ModelInfo } from "../../api/types";
import { languageName } from "../../format";
import { LANGUAGE_CODES } from "../../languages";
import type { Filters, SortColumn, SortOrder } from "./filters";

// On a phone the table's headers are hidden (rows become cards): the order is chosen here.
const ORDERS: readonly [SortColumn, SortOrder, string][] = [
  ["created_at", "desc", "Newest first"],
  ["created_at", "asc", "Oldest first"],
  ["filename", "asc", "File name A–Z"],
  ["filename", "desc", "File name Z–A"],
  ["duration", "desc", "Longest first"],
  ["duration", "asc", "Shortest first"],
  ["status", "asc", "Status"],
];

interface LibraryFiltersProps {
  value: Filters;
  onChange: (value: Filters) => void;
  /** The served models (null: unknown; the model filter lists the chosen one alone). */
  models: readonly ModelInfo[] | null;
}

export function LibraryFilters({ value, onChange, models }: LibraryFiltersProps) {
  const modelNames = [...new Set([...(models ?? []).map((model) => model.name), ...(value.model ? [value.model] : [])])];
  const languages = LANGUAGE_CODES.map((code) => ({ code, name: languageName(code) })).sort((a, b) => a.name.localeCompare(b.name));
  const ids = useId();
  return (
    <form className="filters" role="search" aria-label="Filter transcriptions" onSubmit={(event) => event.preventDefault()}>
      <div className="field field--search">
        <label htmlFor={`${ids}-q`}>File name</label>
        <span className="input-with-icon">
          <SearchIcon size={16} />
          <input
            id={`${ids}-q`}
            type="search"
            placeholder="Search file names"
            value={value.q}
            onChange={(event) => onChange({ ...value, q: event.target.value })}
            autoComplete="off"
          />
        </span>
      </div>
      <div className="field field--search">
        <label htmlFor={`${ids}-text`}>Transcript text</label>
        <span className="input-with-icon">
          <SearchIcon size={16} />
          <input
            id={`${ids}-text`}
            type="search"
            placeholder="Search inside transcripts"
            value={value.text}
            onChange={(event) => onChange({ ...value, text: event.target.value })}
            autoComplete="off"
          />
        </span>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-status`}>Status</label>
        <select
          id={`${ids}-status`}
          value={value.status}
          onChange={(event) => onChange({ ...value, status: isJobStatus(event.target.value) ? event.target.value : "" })}
        >
          <option value="">All</option>
          {JOB_STATUSES.map((status) => (
            <option key={status} value={status}>
              {STATUS_LABELS[status]}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-model`}>Model</label>
        <select id={`${ids}-model`} value={value.model} onChange={(event) => onChange({ ...value, model: event.target.value })}>
          <option value="">All</option>
          {modelNames.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-language`}>Language</label>
        <select
          id={`${ids}-language`}
          value={value.language}
          onChange={(event) => onChange({ ...value, language: event.target.value })}
        >
          <option value="">All</option>
          {languages.map(({ code, name }) => (
            <option key={code} value={code}>
              {name}
            </option>
          ))}
        </select>
      </div>
      <div className="field field--phone">
        <label htmlFor={`${ids}-order`}>Order</label>
        <select
          id={`${ids}-order`}
          value={`${value.sort}:${value.order}`}
          onChange={(event) => {
            const [sort, order] = event.target.value.split(":") as [SortColumn, SortOrder];
            onChange({ ...value, sort, order });
          }}
        >
          {ORDERS.map(([sort, order, label]) => (
            <option key={`${sort}:${order}`} value={`${sort}:${order}`}>
              {label}
            </option>
          ))}
          {ORDERS.some(([sort, order]) => sort === value.sort && order === value.order) ? null : (
            <option value={`${value.sort}:${value.order}`}>As chosen</option>
          )}
        </select>
      </div>
    </form>
  );
}

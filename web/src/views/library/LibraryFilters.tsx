// The library's search form: file name, transcript text, status.

import { useId } from "react";
import { SearchIcon } from "../../components/Icons";
import { isJobStatus, JOB_STATUSES, STATUS_LABELS } from "../../status";
import type { Filters } from "./filters";

interface LibraryFiltersProps {
  value: Filters;
  onChange: (value: Filters) => void;
}

export function LibraryFilters({ value, onChange }: LibraryFiltersProps) {
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
    </form>
  );
}

import { useId } from "react";
import { UPLOAD_TASKS, type UploadOptions } from "../uploadOptions";
import { languageName } from "../format";
import { LANGUAGE_CODES } from "../languages";

interface UploadOptionsFormProps {
  value: UploadOptions;
  onChange: (value: UploadOptions) => void;
}

export function UploadOptionsForm({ value, onChange }: UploadOptionsFormProps) {
  const languageId = useId();
  const wordsId = useId();
  const preciseId = useId();
  const preciseHintId = useId();
  const taskHintId = useId();
  const languages = LANGUAGE_CODES.map((code) => ({ code, name: languageName(code) })).sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  return (
    <fieldset className="options">
      <legend className="options__legend">Options for new files</legend>
      <div className="field">
        <label htmlFor={languageId}>Language</label>
        <select
          id={languageId}
          value={value.language}
          onChange={(event) => onChange({ ...value, language: event.target.value })}
        >
          <option value="">Auto-detect</option>
          {languages.map(({ code, name }) => (
            <option key={code} value={code}>
              {name} ({code})
            </option>
          ))}
        </select>
      </div>
      <div className="field" role="radiogroup" aria-label="Task" aria-describedby={taskHintId}>
        <span className="field__label" aria-hidden="true">
          Task
        </span>
        <div className="segmented">
          {UPLOAD_TASKS.map((task) => (
            <label key={task} className={`segmented__option${value.task === task ? " is-selected" : ""}`}>
              <input
                type="radio"
                name="task"
                value={task}
                checked={value.task === task}
                onChange={() => onChange({ ...value, task })}
              />
              <span>{task === "transcribe" ? "Transcribe" : "Translate"}</span>
            </label>
          ))}
        </div>
        <span className="field__hint" id={taskHintId}>
          {value.task === "translate" ? "The transcript is written in English, whatever the spoken language." : "The transcript keeps the spoken language."}
        </span>
      </div>
      <div className="field field--check">
        <input
          id={wordsId}
          type="checkbox"
          checked={value.wordTimestamps}
          onChange={(event) => onChange({ ...value, wordTimestamps: event.target.checked })}
        />
        <label htmlFor={wordsId}>Word timestamps</label>
      </div>
      <div className="field field--check">
        <input
          id={preciseId}
          type="checkbox"
          checked={value.preciseTimestamps}
          aria-describedby={preciseHintId}
          onChange={(event) => onChange({ ...value, preciseTimestamps: event.target.checked })}
        />
        <label htmlFor={preciseId}>Precise timestamps</label>
        <span className="field__hint" id={preciseHintId}>
          Exact segment times for subtitles; about 15 % slower.
        </span>
      </div>
    </fieldset>
  );
}

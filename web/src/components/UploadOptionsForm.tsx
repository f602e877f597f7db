import { useId, useMemo } from "react";
import type { ModelInfo } from "../api/types";
import {
  canTranslate,
  chosenModel,
  modelReach,
  SPEAKER_MODES,
  speedHint,
  UPLOAD_PRIORITIES,
  type SpeakerMode,
  type UploadOptions,
  type UploadPriority,
} from "../uploadOptions";
import { languageName } from "../format";
import { LANGUAGE_CODES } from "../languages";

interface UploadOptionsFormProps {
  value: UploadOptions;
  onChange: (value: UploadOptions) => void;
  /** The served models (GET /api/models); null while unknown: every option is shown. */
  models: readonly ModelInfo[] | null;
}

const SPEAKER_LABELS: Record<SpeakerMode, string> = {
  off: "No speaker labels",
  auto: "Label speakers (count them)",
  channels: "One speaker per stereo channel",
  "1": "1 speaker",
  "2": "2 speakers",
  "3": "3 speakers",
  "4": "4 speakers",
  "5": "5 speakers",
  "6": "6 speakers",
  "7": "7 speakers",
  "8": "8 speakers",
};

const PRIORITY_LABELS: Record<UploadPriority, string> = { low: "Low", normal: "Normal", high: "High" };

function languageChoices(model: ModelInfo | null) {
  const codes = model ? model.languages : LANGUAGE_CODES;
  return codes.map((code) => ({ code, name: languageName(code) })).sort((a, b) => a.name.localeCompare(b.name));
}

function ModelHint({ model, id }: { model: ModelInfo; id: string }) {
  const speed = speedHint(model);
  return (
    <span className="field__hint" id={id}>
      {speed ? `Takes ${speed}.` : "Speed not measured on this server yet."}
      {model.workers === 0 ? " No worker serves it right now: uploads wait for one." : ""}
    </span>
  );
}

export function UploadOptionsForm({ value, onChange, models }: UploadOptionsFormProps) {
  const modelId = useId();
  const modelHintId = useId();
  const languageId = useId();
  const speakersId = useId();
  const wordsId = useId();
  const preciseId = useId();
  const preciseHintId = useId();
  const taskHintId = useId();
  const model = chosenModel(value, models);
  const multilingual = model === null || model.multilingual;
  const languages = useMemo(() => languageChoices(model), [model]);
  const set = (change: Partial<UploadOptions>) => onChange({ ...value, ...change });

  return (
    <fieldset className="options">
      <legend className="options__legend">Options for new files</legend>
      {models && models.length > 0 && model ? (
        <div className="field">
          <label htmlFor={modelId}>Model</label>
          <select
            id={modelId}
            value={model.name}
            aria-describedby={modelHintId}
            onChange={(event) => set({ model: event.target.value })}
          >
            {models.map((offered) => (
              <option key={offered.name} value={offered.name}>
                {offered.name} — {modelReach(offered)}
              </option>
            ))}
          </select>
          <ModelHint model={model} id={modelHintId} />
        </div>
      ) : null}
      {multilingual ? (
        <div className="field">
          <label htmlFor={languageId}>Language</label>
          <select id={languageId} value={value.language} onChange={(event) => set({ language: event.target.value })}>
            <option value="">Auto-detect</option>
            {languages.map(({ code, name }) => (
              <option key={code} value={code}>
                {name} ({code})
              </option>
            ))}
          </select>
        </div>
      ) : (
        <p className="field__hint options__note">{model?.name} transcribes English only.</p>
      )}
      {canTranslate(model) ? (
        <div className="field" role="radiogroup" aria-label="Task" aria-describedby={taskHintId}>
          <span className="field__label" aria-hidden="true">
            Task
          </span>
          <div className="segmented">
            {(["transcribe", "translate"] as const).map((task) => (
              <label key={task} className={`segmented__option${value.task === task ? " is-selected" : ""}`}>
                <input
                  type="radio"
                  name="task"
                  value={task}
                  checked={value.task === task}
                  onChange={() => set({ task })}
                />
                <span>{task === "transcribe" ? "Transcribe" : "Translate to English"}</span>
              </label>
            ))}
          </div>
          <span className="field__hint" id={taskHintId}>
            {value.task === "translate"
              ? `The gist, in English: ${model?.name ?? "the model"} gives the sense of the speech, looser than a transcript.`
              : "The transcript keeps the spoken language."}
          </span>
        </div>
      ) : null}
      <div className="field">
        <label htmlFor={speakersId}>Speakers</label>
        <select
          id={speakersId}
          value={value.speakers}
          onChange={(event) => set({ speakers: event.target.value as SpeakerMode })}
        >
          {SPEAKER_MODES.map((mode) => (
            <option key={mode} value={mode}>
              {SPEAKER_LABELS[mode]}
            </option>
          ))}
        </select>
      </div>
      <div className="field" role="radiogroup" aria-label="Priority">
        <span className="field__label" aria-hidden="true">
          Priority
        </span>
        <div className="segmented">
          {UPLOAD_PRIORITIES.map((priority) => (
            <label key={priority} className={`segmented__option${value.priority === priority ? " is-selected" : ""}`}>
              <input
                type="radio"
                name="priority"
                value={priority}
                checked={value.priority === priority}
                onChange={() => set({ priority })}
              />
              <span>{PRIORITY_LABELS[priority]}</span>
            </label>
          ))}
        </div>
      </div>
      <div className="field field--check">
        <input
          id={wordsId}
          type="checkbox"
          checked={value.wordTimestamps}
          onChange={(event) => set({ wordTimestamps: event.target.checked })}
        />
        <label htmlFor={wordsId}>Word timestamps</label>
      </div>
      <div className="field field--check">
        <input
          id={preciseId}
          type="checkbox"
          checked={value.preciseTimestamps}
          aria-describedby={preciseHintId}
          onChange={(event) => set({ preciseTimestamps: event.target.checked })}
        />
        <label htmlFor={preciseId}>Precise timestamps</label>
        <span className="field__hint" id={preciseHintId}>
          Exact segment times for subtitles; about 15 % slower.
        </span>
      </div>
    </fieldset>
  );
}

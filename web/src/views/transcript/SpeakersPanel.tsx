// The speakers of a transcript, each with its colour and name, and renaming one in place.

import { useState, type KeyboardEvent } from "react";
import { changeTranscription } from "../../api/client";
import { useJobsDispatch } from "../../state/JobsProvider";
import { SpeakerTag, speakerIds, speakerName, type SpeakerNames } from "./speakers";
import { toApiError } from "./useTranscriptRecord";

interface SpeakersPanelProps {
  id: string;
  speakers: SpeakerNames;
}

interface Editing {
  speaker: string;
  draft: string;
}

export function SpeakersPanel({ id, speakers }: SpeakersPanelProps) {
  const jobsDispatch = useJobsDispatch();
  const [editing, setEditing] = useState<Editing | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const start = (speaker: string) => {
    setEditing({ speaker, draft: speakerName(speakers, speaker) });
    setError(null);
  };
  const cancel = () => {
    setEditing(null);
    setError(null);
  };
  const save = async () => {
    if (!editing || saving) return;
    const name = editing.draft.trim();
    if (name === speakerName(speakers, editing.speaker)) return cancel();
    setSaving(true);
    setError(null);
    try {
      const transcription = await changeTranscription(id, { speakers: { [editing.speaker]: name } });
      jobsDispatch({ type: "loaded", transcription });
      setEditing(null);
    } catch (caught) {
      setError(toApiError(caught).message);
    } finally {
      setSaving(false);
    }
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter") {
      event.preventDefault();
      void save();
    } else if (event.key === "Escape") {
      event.preventDefault();
      cancel();
    }
  };

  return (
    <section className="side-panel" aria-labelledby="speakers-heading">
      <h2 id="speakers-heading" className="side-panel__title">
        Speakers
      </h2>
      <ul className="speakers">
        {speakerIds(speakers).map((speaker) => (
          <li key={speaker} className="speakers__item">
            {editing?.speaker === speaker ? (
              <form
                className="speakers__form"
                onSubmit={(event) => {
                  event.preventDefault();
                  void save();
                }}
              >
                <input
                  className="speakers__input"
                  aria-label={`Name of speaker ${speaker}`}
                  value={editing.draft}
                  autoFocus
                  disabled={saving}
                  onChange={(event) => setEditing({ speaker, draft: event.target.value })}
                  onKeyDown={onKeyDown}
                />
                <button type="submit" className="button" disabled={saving}>
                  {saving ? "Saving…" : "Save"}
                </button>
                <button type="button" className="button button--quiet" onClick={cancel} disabled={saving}>
                  Cancel
                </button>
              </form>
            ) : (
              <>
                <span>
                  <SpeakerTag id={speaker} names={speakers} />
                  {speakerName(speakers, speaker) !== speaker ? <span className="speakers__id"> {speaker}</span> : null}
                </span>
                <button
                  type="button"
                  className="button button--quiet"
                  aria-label={`Rename ${speakerName(speakers, speaker)}`}
                  onClick={() => start(speaker)}
                  disabled={saving}
                >
                  Rename
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
      {error ? (
        <p className="small error-text" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}

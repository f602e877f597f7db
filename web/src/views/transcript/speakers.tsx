// Speakers of a transcript: their display names and a colour that stays with each speaker id.

/** How many speaker colours the stylesheet defines (`speaker--1` … `speaker--8`). */
export const SPEAKER_COLOURS = 8;

export type SpeakerNames = Readonly<Record<string, string>>;

function idNumber(id: string): number | null {
  const match = /^S(\d+)$/.exec(id);
  return match ? Number(match[1]) : null;
}

/** The colour (1 … SPEAKER_COLOURS) of a speaker id: S1 → 1, S2 → 2, …; another id by its letters. */
export function speakerColour(id: string): number {
  const number = idNumber(id);
  let key = number ?? 0;
  if (number === null) for (const char of id) key = (key * 31 + char.charCodeAt(0)) % 65521;
  else key -= 1;
  return (((key % SPEAKER_COLOURS) + SPEAKER_COLOURS) % SPEAKER_COLOURS) + 1;
}

/** The speaker's display name: its name if renamed, else its id. */
export function speakerName(names: SpeakerNames | null | undefined, id: string): string {
  return names?.[id] || id;
}

/** The ids in speaking order of their numbers (S2 before S10). */
export function speakerIds(names: SpeakerNames | null | undefined): string[] {
  return Object.keys(names ?? {}).sort((a, b) => {
    const [x, y] = [idNumber(a), idNumber(b)];
    if (x !== null && y !== null) return x - y;
    if (x !== null) return -1;
    if (y !== null) return 1;
    return a.localeCompare(b);
  });
}

const ERROR_PREFIX = "Speaker labels could not be made: ";

/** A transcription's `speakers_error` as shown: the reason after "Speaker labels could not be made: ". */
export function speakersErrorText(error: string): string {
  return error.startsWith(ERROR_PREFIX) ? error : `${ERROR_PREFIX}${error}`;
}

export function SpeakerTag({ id, names }: { id: string; names: SpeakerNames | null | undefined }) {
  return <span className={`speaker speaker--${speakerColour(id)}`}>{speakerName(names, id)}</span>;
}

// Where playback is in a transcript: which segment, and which word of it, plays at a time.

import type { Segment } from "./api/types";

/**
 * One timed word of a segment. The API sends words as plain objects (`SegmentOut.words`), so
 * they are read through `segmentWords`, which keeps the ones with a time and a text.
 */
export interface Word {
  start: number;
  end: number;
  word: string;
}

export interface PlaybackPosition {
  /** `index` of the segment being played, or null between segments. */
  segment: number | null;
  /** Position in that segment's words of the word being played, when words are known. */
  word: number | null;
}

export const NOWHERE: PlaybackPosition = { segment: null, word: null };

const wordsRead = new WeakMap<Segment, readonly Word[]>();

function isWord(value: Record<string, unknown>): value is Record<string, unknown> & Word {
  return typeof value.start === "number" && typeof value.end === "number" && typeof value.word === "string";
}

/** The segment's timed words (none when the job was not asked for word timestamps). */
export function segmentWords(segment: Segment): readonly Word[] {
  if (!segment.words || segment.words.length === 0) return [];
  let words = wordsRead.get(segment);
  if (!words) {
    words = segment.words.filter(isWord).map(({ start, end, word }) => ({ start, end, word }));
    wordsRead.set(segment, words);
  }
  return words;
}

/** The last element whose start is at or before `time` (binary search over sorted starts). */
function lastStartingBefore<T extends { start: number }>(items: readonly T[], time: number): number {
  let low = 0;
  let high = items.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (items[middle]!.start <= time) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/** The index of the segment playing at `time`, or null between segments. */
export function segmentAt(segments: readonly Segment[], time: number): number | null {
  const found = lastStartingBefore(segments, time);
  if (found === -1) return null;
  const segment = segments[found]!;
  return time < segment.end ? segment.index : null;
}

/** Where playback is at `time`: the segment, and the word within it if words are known. */
export function positionAt(segments: readonly Segment[], time: number): PlaybackPosition {
  const found = lastStartingBefore(segments, time);
  const segment = found === -1 ? undefined : segments[found];
  if (!segment || time >= segment.end) return NOWHERE;
  const words = segmentWords(segment);
  const word = words.length > 0 ? lastStartingBefore(words, time) : -1;
  return { segment: segment.index, word: word === -1 ? null : word };
}

/** The playback speeds offered, slowest first. */
export const SPEEDS: readonly number[] = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];

/** How far J and L (and the skip buttons) move playback, in seconds. */
export const SKIP_SECONDS = 5;

/** What a key press asks of the player. */
export type PlayerCommand = "toggle" | "back" | "forward" | "help";

/** The keyboard shortcuts, as the help popover lists them. */
export const SHORTCUTS: readonly { keys: readonly string[]; does: string }[] = [
  { keys: ["Space", "K"], does: "Play or pause" },
  { keys: ["J"], does: `Back ${SKIP_SECONDS} seconds` },
  { keys: ["L"], does: `Forward ${SKIP_SECONDS} seconds` },
  { keys: ["?"], does: "Show or hide these shortcuts" },
];

export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  /** Where the key was pressed. */
  target: EventTarget | null;
}

function isTextEntry(element: Element): boolean {
  if (element instanceof HTMLElement && element.isContentEditable) return true;
  if (element.closest('[contenteditable]:not([contenteditable="false"])')) return true;
  if (element instanceof HTMLTextAreaElement || element instanceof HTMLSelectElement) return true;
  if (!(element instanceof HTMLInputElement)) return false;
  return !["button", "checkbox", "radio", "range", "reset", "submit"].includes(element.type);
}

/**
 * The player command of a key press, or null when the key is not a shortcut there.
 * Nothing is taken from text being typed (inputs, text areas, selects) or from the browser's
 * own combinations (Ctrl, Cmd, Alt). Space keeps its meaning on buttons, links and the media
 * element itself, except on a transcript segment, where it plays or pauses too.
 */
export function playerCommand(press: KeyPress): PlayerCommand | null {
  if (press.ctrlKey || press.metaKey || press.altKey) return null;
  const target = press.target instanceof Element ? press.target : null;
  if (target && isTextEntry(target)) return null;
  const key = press.key.length === 1 ? press.key.toLowerCase() : press.key;
  if (key === " ") {
    const activates = target?.closest("button, a, summary, audio, video, input, [role=button]");
    return !activates || activates.classList.contains("segment") ? "toggle" : null;
  }
  if (key === "k") return "toggle";
  if (key === "j") return "back";
  if (key === "l") return "forward";
  if (key === "?") return "help";
  return null;
}

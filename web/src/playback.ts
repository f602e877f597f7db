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

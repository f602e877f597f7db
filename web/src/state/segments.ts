// A job's segments: merged by `index` as records and events bring them, and joined into text.

import type { Segment } from "../api/types";

function sameSegment(a: Segment, b: Segment): boolean {
  return (
    a.start === b.start &&
    a.end === b.end &&
    a.text === b.text &&
    (a.words?.length ?? 0) === (b.words?.length ?? 0)
  );
}

/** Merges `incoming` into `existing` by `index`; returns `existing` itself when nothing changed. */
export function mergeSegments(existing: readonly Segment[], incoming: readonly Segment[]): readonly Segment[] {
  if (incoming.length === 0) return existing;
  const byIndex = new Map<number, Segment>();
  for (const segment of existing) byIndex.set(segment.index, segment);
  let changed = false;
  for (const segment of incoming) {
    if (!segment || typeof segment.index !== "number") continue;
    const previous = byIndex.get(segment.index);
    if (!previous || !sameSegment(previous, segment)) {
      byIndex.set(segment.index, segment);
      changed = true;
    }
  }
  if (!changed) return existing;
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

/** The transcript so far: the final text once known, else the segments joined. */
export function transcriptText(text: string | null | undefined, segments: readonly Segment[]): string {
  if (text) return text.trim();
  return segments
    .map((segment) => segment.text.trim())
    .filter(Boolean)
    .join(" ");
}

// A short excerpt of a transcript around the first word of a text search, for result lists.

export interface Snippet {
  before: string;
  match: string;
  after: string;
}

function searchWords(query: string): string[] {
  return query
    .toLowerCase()
    .replace(/["()]/g, " ")
    .split(/\s+/)
    .filter((word) => word && word !== "or" && !word.startsWith("-"));
}

export function snippetFor(text: string | null | undefined, query: string, radius = 60): Snippet | null {
  if (!text || !query.trim()) return null;
  const lower = text.toLowerCase();
  for (const word of searchWords(query)) {
    const at = lower.indexOf(word);
    if (at === -1) continue;
    let start = Math.max(0, at - radius);
    let end = Math.min(text.length, at + word.length + radius);
    // Do not cut words in half at either edge.
    if (start > 0) {
      const space = text.indexOf(" ", start);
      if (space !== -1 && space < at) start = space + 1;
    }
    if (end < text.length) {
      const space = text.lastIndexOf(" ", end);
      if (space > at + word.length) end = space;
    }
    return {
      before: `${start > 0 ? "…" : ""}${text.slice(start, at).trimStart()}`,
      match: text.slice(at, at + word.length),
      after: `${text.slice(at + word.length, end).trimEnd()}${end < text.length ? "…" : ""}`,
    };
  }
  return null;
}

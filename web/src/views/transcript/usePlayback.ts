// The playback position of a transcript's player, and seeking it from a segment or a word.

import { useCallback, useRef, useState, type RefCallback } from "react";
import type { Segment } from "../../api/types";
import { NOWHERE, positionAt, type PlaybackPosition } from "../../playback";

export interface Playback {
  /** Attach to the media element. */
  mediaRef: RefCallback<HTMLMediaElement>;
  position: PlaybackPosition;
  /** Reads the position from the media element (on `timeupdate` and `seeked`). */
  sync: () => void;
  /** Plays from the segment's start, or from `at` (a word's start). */
  seek: (segment: Segment, at?: number) => void;
  /** Forgets the position (a new run has no segments yet). */
  reset: () => void;
}

export function usePlayback(segments: readonly Segment[]): Playback {
  const media = useRef<HTMLMediaElement | null>(null);
  const [position, setPosition] = useState<PlaybackPosition>(NOWHERE);

  const mediaRef = useCallback((element: HTMLMediaElement | null) => {
    media.current = element;
  }, []);

  const sync = useCallback(() => {
    const element = media.current;
    if (!element) return;
    const next = positionAt(segments, element.currentTime);
    setPosition((current) => (current.segment === next.segment && current.word === next.word ? current : next));
  }, [segments]);

  const seek = useCallback((segment: Segment, at?: number) => {
    setPosition({ segment: segment.index, word: null });
    const element = media.current;
    if (!element) return;
    element.currentTime = at ?? segment.start;
    try {
      const playing = element.play();
      if (playing && typeof playing.catch === "function") playing.catch(() => undefined);
    } catch {
      // playback may be refused (no media yet, autoplay rules): the position is still set
    }
  }, []);

  const reset = useCallback(() => setPosition(NOWHERE), []);

  return { mediaRef, position, sync, seek, reset };
}

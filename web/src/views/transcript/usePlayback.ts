// The playback position of a transcript's player, seeking it from a segment or a word, and the
// commands of its controls and shortcuts (play/pause, skip, speed).

import { useCallback, useRef, useState, type RefCallback } from "react";
import type { Segment } from "../../api/types";
import { NOWHERE, positionAt, SPEEDS, type PlaybackPosition } from "../../playback";

const SPEED_KEY = "soundscripter.playbackSpeed";

export interface Playback {
  /** Attach to the media element. */
  mediaRef: RefCallback<HTMLMediaElement>;
  /** The media element, once attached (controls follow its events). */
  media: HTMLMediaElement | null;
  position: PlaybackPosition;
  /** Reads the position from the media element (on `timeupdate` and `seeked`). */
  sync: () => void;
  /** Plays from the segment's start, or from `at` (a word's start). */
  seek: (segment: Segment, at?: number) => void;
  /** Plays when paused, pauses when playing. */
  toggle: () => void;
  /** Moves playback by `seconds` (negative: back), within the recording. */
  skip: (seconds: number) => void;
  /** Sets the playback speed (kept for the next transcript too). */
  setSpeed: (speed: number) => void;
  /** Forgets the position (a new run has no segments yet). */
  reset: () => void;
}

function play(element: HTMLMediaElement): void {
  try {
    const playing = element.play();
    if (playing && typeof playing.catch === "function") playing.catch(() => undefined);
  } catch {
    // playback may be refused (no media yet, autoplay rules): the position is still set
  }
}

function savedSpeed(): number {
  try {
    const speed = Number(window.localStorage.getItem(SPEED_KEY));
    return SPEEDS.includes(speed) ? speed : 1;
  } catch {
    return 1;
  }
}

export function usePlayback(segments: readonly Segment[]): Playback {
  const media = useRef<HTMLMediaElement | null>(null);
  const [element, setElement] = useState<HTMLMediaElement | null>(null);
  const [position, setPosition] = useState<PlaybackPosition>(NOWHERE);

  const mediaRef = useCallback((attached: HTMLMediaElement | null) => {
    media.current = attached;
    if (attached) {
      const speed = savedSpeed();
      attached.defaultPlaybackRate = speed;
      attached.playbackRate = speed;
    }
    setElement(attached);
  }, []);

  const sync = useCallback(() => {
    const current = media.current;
    if (!current) return;
    const next = positionAt(segments, current.currentTime);
    setPosition((held) => (held.segment === next.segment && held.word === next.word ? held : next));
  }, [segments]);

  const seek = useCallback((segment: Segment, at?: number) => {
    setPosition({ segment: segment.index, word: null });
    const current = media.current;
    if (!current) return;
    current.currentTime = at ?? segment.start;
    play(current);
  }, []);

  const toggle = useCallback(() => {
    const current = media.current;
    if (!current) return;
    if (current.paused) play(current);
    else current.pause();
  }, []);

  const skip = useCallback((seconds: number) => {
    const current = media.current;
    if (!current) return;
    const end = Number.isFinite(current.duration) ? current.duration : Number.POSITIVE_INFINITY;
    current.currentTime = Math.min(end, Math.max(0, current.currentTime + seconds));
  }, []);

  const setSpeed = useCallback((speed: number) => {
    const current = media.current;
    if (current) {
      current.defaultPlaybackRate = speed;
      current.playbackRate = speed;
    }
    try {
      window.localStorage.setItem(SPEED_KEY, String(speed));
    } catch {
      // private browsing: the speed holds for this page only
    }
  }, []);

  const reset = useCallback(() => setPosition(NOWHERE), []);

  return { mediaRef, media: element, position, sync, seek, toggle, skip, setSpeed, reset };
}

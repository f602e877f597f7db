// What a media element is doing, as its controls show it: playing or paused, where (whole
// seconds), how long, how fast. Re-renders only when one of those changes.

import { useEffect, useState } from "react";

export interface MediaState {
  paused: boolean;
  /** Whole seconds played. */
  time: number;
  /** Seconds, or null until known. */
  duration: number | null;
  speed: number;
}

const EVENTS = ["play", "pause", "ended", "timeupdate", "seeked", "durationchange", "loadedmetadata", "ratechange"];

function read(media: HTMLMediaElement | null): MediaState {
  if (!media) return { paused: true, time: 0, duration: null, speed: 1 };
  return {
    paused: media.paused,
    time: Math.floor(media.currentTime || 0),
    duration: Number.isFinite(media.duration) && media.duration > 0 ? media.duration : null,
    speed: media.playbackRate || 1,
  };
}

function same(a: MediaState, b: MediaState): boolean {
  return a.paused === b.paused && a.time === b.time && a.duration === b.duration && a.speed === b.speed;
}

export function useMediaState(media: HTMLMediaElement | null): MediaState {
  const [state, setState] = useState<MediaState>(() => read(media));
  useEffect(() => {
    const update = () => {
      const next = read(media);
      setState((held) => (same(held, next) ? held : next));
    };
    update();
    if (!media) return;
    for (const name of EVENTS) media.addEventListener(name, update);
    return () => {
      for (const name of EVENTS) media.removeEventListener(name, update);
    };
  }, [media]);
  return state;
}

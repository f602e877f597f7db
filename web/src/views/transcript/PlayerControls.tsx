// The player's own controls: back and forward 5 s, play/pause, the time, the speed and the
// keyboard shortcuts' help. The mini-player of narrow screens shows a smaller set of them.

import { useId } from "react";
import { formatDuration } from "../../format";
import { SKIP_SECONDS, SPEEDS } from "../../playback";
import { ShortcutsHelp } from "./ShortcutsHelp";
import { useMediaState, type MediaState } from "./useMediaState";
import type { Playback } from "./usePlayback";

function Glyph({ name }: { name: "play" | "pause" | "back" | "forward" }) {
  const paths = {
    play: <path d="M8 5.5v13l10.5-6.5z" fill="currentColor" stroke="none" />,
    pause: <path d="M8 5.5h3v13H8zM13.5 5.5h3v13h-3z" fill="currentColor" stroke="none" />,
    back: <path d="M11 7 6 12l5 5M18 7l-5 5 5 5" />,
    forward: <path d="m13 7 5 5-5 5M6 7l5 5-5 5" />,
  };
  return (
    <svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true" focusable="false">
      {paths[name]}
    </svg>
  );
}

function PlayButton({ playback, state }: { playback: Playback; state: MediaState }) {
  return (
    <button type="button" className="player-button player-button--main" onClick={playback.toggle} disabled={!playback.media}>
      <Glyph name={state.paused ? "play" : "pause"} />
      <span className="visually-hidden">{state.paused ? "Play" : "Pause"}</span>
    </button>
  );
}

function PlayerTime({ state }: { state: MediaState }) {
  return (
    <span className="player-time numeric">
      <span className="visually-hidden">Played </span>
      {formatDuration(state.time)}
      <span aria-hidden="true"> / </span>
      <span className="visually-hidden"> of </span>
      {formatDuration(state.duration)}
    </span>
  );
}

function SpeedPicker({ playback, state, label }: { playback: Playback; state: MediaState; label: string }) {
  const id = useId();
  return (
    <span className="player-speed">
      <label htmlFor={id} className="visually-hidden">
        {label}
      </label>
      <select
        id={id}
        className="player-speed__select"
        value={String(SPEEDS.includes(state.speed) ? state.speed : 1)}
        onChange={(event) => playback.setSpeed(Number(event.target.value))}
      >
        {SPEEDS.map((speed) => (
          <option key={speed} value={String(speed)}>
            {speed}×
          </option>
        ))}
      </select>
    </span>
  );
}

interface PlayerControlsProps {
  playback: Playback;
  helpOpen: boolean;
  onHelp: (open: boolean) => void;
}

export function PlayerControls({ playback, helpOpen, onHelp }: PlayerControlsProps) {
  const state = useMediaState(playback.media);
  return (
    <div className="player-controls" role="group" aria-label="Playback controls">
      <button type="button" className="player-button" onClick={() => playback.skip(-SKIP_SECONDS)} disabled={!playback.media}>
        <Glyph name="back" />
        <span className="visually-hidden">Back {SKIP_SECONDS} seconds</span>
      </button>
      <PlayButton playback={playback} state={state} />
      <button type="button" className="player-button" onClick={() => playback.skip(SKIP_SECONDS)} disabled={!playback.media}>
        <Glyph name="forward" />
        <span className="visually-hidden">Forward {SKIP_SECONDS} seconds</span>
      </button>
      <PlayerTime state={state} />
      <SpeedPicker playback={playback} state={state} label="Playback speed" />
      <ShortcutsHelp open={helpOpen} onOpen={onHelp} />
    </div>
  );
}

/** The controls kept in view on a narrow screen once the player has scrolled away. */
export function MiniPlayer({ playback, visible }: { playback: Playback; visible: boolean }) {
  const state = useMediaState(playback.media);
  if (!visible) return null;
  return (
    <div className="mini-player" role="region" aria-label="Mini player">
      <PlayButton playback={playback} state={state} />
      <PlayerTime state={state} />
      <SpeedPicker playback={playback} state={state} label="Playback speed (mini player)" />
    </div>
  );
}

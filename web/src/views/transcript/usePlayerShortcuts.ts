// The player's keyboard shortcuts on the transcript page (see `playerCommand` for which keys
// count where).

import { useEffect } from "react";
import { playerCommand, SKIP_SECONDS } from "../../playback";
import type { Playback } from "./usePlayback";

export function usePlayerShortcuts(playback: Playback, toggleHelp: () => void): void {
  const { toggle, skip } = playback;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented) return;
      const command = playerCommand(event);
      if (command === null) return;
      event.preventDefault();
      if (event.type === "keyup") return; // a button's Space click happens on keyup: kept from it
      if (command === "toggle") toggle();
      else if (command === "back") skip(-SKIP_SECONDS);
      else if (command === "forward") skip(SKIP_SECONDS);
      else toggleHelp();
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("keyup", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("keyup", onKey);
    };
  }, [toggle, skip, toggleHelp]);
}

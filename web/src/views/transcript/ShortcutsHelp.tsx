// The keyboard shortcuts of the player, in a popover opened by its button or by "?".

import { useEffect, useId, useRef } from "react";
import { SHORTCUTS } from "../../playback";

interface ShortcutsHelpProps {
  open: boolean;
  onOpen: (open: boolean) => void;
}

export function ShortcutsHelp({ open, onOpen }: ShortcutsHelpProps) {
  const id = useId();
  const box = useRef<HTMLSpanElement>(null);

  useEffect(() => {
    if (!open) return;
    const close = (event: Event) => {
      if (event instanceof KeyboardEvent ? event.key === "Escape" : !box.current?.contains(event.target as Node)) {
        onOpen(false);
      }
    };
    document.addEventListener("keydown", close);
    document.addEventListener("pointerdown", close);
    return () => {
      document.removeEventListener("keydown", close);
      document.removeEventListener("pointerdown", close);
    };
  }, [open, onOpen]);

  return (
    <span className="shortcuts" ref={box}>
      <button
        type="button"
        className="player-button"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => onOpen(!open)}
      >
        <span aria-hidden="true">?</span>
        <span className="visually-hidden">Keyboard shortcuts</span>
      </button>
      <div id={id} className="shortcuts__popover" role="region" aria-label="Keyboard shortcuts" hidden={!open}>
        <p className="shortcuts__title">Keyboard shortcuts</p>
        <dl className="shortcuts__list">
          {SHORTCUTS.map(({ keys, does }) => (
            <div key={does} className="shortcuts__item">
              <dt>
                {keys.map((key, n) => (
                  <span key={key}>
                    {n > 0 ? " or " : null}
                    <kbd>{key}</kbd>
                  </span>
                ))}
              </dt>
              <dd>{does}</dd>
            </div>
          ))}
        </dl>
        <p className="small muted">Not while typing in a field.</p>
      </div>
    </span>
  );
}

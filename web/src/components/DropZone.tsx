import { useId, useRef, useState, type DragEvent, type KeyboardEvent } from "react";
import { UploadIcon } from "./Icons";

interface DropZoneProps {
  onFiles: (files: File[]) => void;
  disabled?: boolean;
}

export const ACCEPTED_TYPES = "audio/*,video/*";

function hasFiles(event: DragEvent): boolean {
  return Array.from(event.dataTransfer?.types ?? []).includes("Files");
}

/** Drop files here, or activate (click, Enter, Space) to choose them. The button is named by
 * its visible text (no aria-label), so what a speech user reads out is what it answers to. */
export function DropZone({ onFiles, disabled = false }: DropZoneProps) {
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const depth = useRef(0);
  const inputId = useId();

  const choose = () => {
    if (!disabled) input.current?.click();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      choose();
    }
  };

  const onDragEnter = (event: DragEvent<HTMLDivElement>) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth.current += 1;
    setDragging(true);
  };

  const onDragOver = (event: DragEvent<HTMLDivElement>) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = disabled ? "none" : "copy";
  };

  const onDragLeave = () => {
    depth.current = Math.max(0, depth.current - 1);
    if (depth.current === 0) setDragging(false);
  };

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    depth.current = 0;
    setDragging(false);
    if (disabled) return;
    const files = Array.from(event.dataTransfer.files ?? []);
    if (files.length > 0) onFiles(files);
  };

  return (
    <>
      <div
        className={`dropzone${dragging ? " dropzone--active" : ""}${disabled ? " dropzone--disabled" : ""}`}
        role="button"
        tabIndex={disabled ? -1 : 0}
        aria-disabled={disabled || undefined}
        onClick={choose}
        onKeyDown={onKeyDown}
        onDragEnter={onDragEnter}
        onDragOver={onDragOver}
        onDragLeave={onDragLeave}
        onDrop={onDrop}
        data-testid="dropzone"
      >
        <span className="dropzone__icon">
          <UploadIcon size={28} />
        </span>
        <span className="dropzone__title dropzone__title--pointer">
          {dragging ? "Drop to upload" : "Drop audio or video files here"}
        </span>
        <span className="dropzone__title dropzone__title--touch">Choose audio or video files</span>
        <span className="dropzone__hint">
          <span className="dropzone__hint--pointer">
            or <span className="dropzone__link">choose files</span> —{" "}
          </span>
          each file is uploaded and transcribed on its own
        </span>
      </div>
      <input
        ref={input}
        id={inputId}
        className="visually-hidden"
        type="file"
        multiple
        accept={ACCEPTED_TYPES}
        tabIndex={-1}
        aria-label="Choose audio or video files"
        data-testid="file-input"
        onChange={(event) => {
          const files = Array.from(event.currentTarget.files ?? []);
          event.currentTarget.value = "";
          if (files.length > 0) onFiles(files);
        }}
      />
    </>
  );
}

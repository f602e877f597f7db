import { formatPercent } from "../format";

interface ProgressBarProps {
  /** 0–1; null shows an indeterminate bar (waiting, no measure yet). */
  value: number | null;
  label: string;
  tone?: "upload" | "transcribe" | "done" | "error";
  valueText?: string;
}

export function ProgressBar({ value, label, tone = "transcribe", valueText }: ProgressBarProps) {
  const percent = value === null ? null : Math.round(Math.min(1, Math.max(0, value)) * 100);
  return (
    <div
      className={`progress progress--${tone}${percent === null ? " progress--indeterminate" : ""}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent ?? undefined}
      aria-valuetext={valueText ?? (value === null ? "waiting" : formatPercent(value))}
    >
      <div className="progress__fill" style={percent === null ? undefined : { width: `${percent}%` }} />
    </div>
  );
}

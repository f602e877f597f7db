import type { ReactNode } from "react";

interface NoticeProps {
  tone?: "info" | "error" | "empty";
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}

/** Empty, loading and error states of a view or a panel. */
export function Notice({ tone = "info", title, children, action }: NoticeProps) {
  return (
    <div className={`notice notice--${tone}`} role={tone === "error" ? "alert" : undefined}>
      <p className="notice__title">{title}</p>
      {children ? <div className="notice__body">{children}</div> : null}
      {action ? <div className="notice__action">{action}</div> : null}
    </div>
  );
}

export function Spinner({ label }: { label: string }) {
  return (
    <div className="spinner" role="status">
      <span className="spinner__ring" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

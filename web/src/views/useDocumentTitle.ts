import { useEffect } from "react";
import { setViewTitle } from "../documentTitle";

export function useDocumentTitle(title: string): void {
  useEffect(() => setViewTitle(title), [title]);
}

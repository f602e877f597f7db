// Whether an element has scrolled out of the viewport (for the mini-player of narrow screens).

import { useEffect, useState } from "react";

export function useOutOfView(element: Element | null): boolean {
  const [out, setOut] = useState(false);
  useEffect(() => {
    if (!element || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver(([entry]) => setOut(entry ? !entry.isIntersecting : false));
    observer.observe(element);
    return () => observer.disconnect();
  }, [element]);
  return out;
}

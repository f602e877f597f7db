// What the server tells the upload form, read once per visit to a view: the models an upload
// may name (GET /api/models) and its upload limits (GET /api/limits). Null until known, and
// when the server cannot tell (an older server, an error): the form then offers every option
// and the server decides.

import { useEffect, useState } from "react";
import { getLimits, listModels } from "../api/client";
import type { ModelInfo, UploadLimits } from "../api/types";

function useFetched<T, R>(load: (signal: AbortSignal) => Promise<T>, pick: (value: T) => R | null): R | null {
  const [value, setValue] = useState<R | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal)
      .then((answer) => setValue(pick(answer)))
      .catch(() => undefined);
    return () => controller.abort();
    // `pick` is one module-level function per use below: only `load` can change
  }, [load]);
  return value;
}

const modelsOf = (list: { items?: unknown }) => (Array.isArray(list?.items) ? (list.items as ModelInfo[]) : null);
const limitsOf = (limits: UploadLimits) => (typeof limits?.max_upload_bytes === "number" ? limits : null);

export function useModels(load: typeof listModels = listModels): readonly ModelInfo[] | null {
  return useFetched(load, modelsOf);
}

export function useLimits(load: typeof getLimits = getLimits): UploadLimits | null {
  return useFetched(load, limitsOf);
}

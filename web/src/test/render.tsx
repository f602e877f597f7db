import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { eventsUrl, type StreamPositions, type UploadOutcome } from "../api/client";
import { JobsProvider } from "../state/JobsProvider";
import { UploadsProvider, type UploadsProviderProps } from "../state/UploadsProvider";
import { FakeEventSource } from "./fakes";

const openFake = (ids: readonly string[], since: StreamPositions | null) =>
  new FakeEventSource(eventsUrl(ids, since)) as unknown as EventSource;

const neverUpload: NonNullable<UploadsProviderProps["upload"]> = () => ({
  result: new Promise<UploadOutcome>(() => undefined),
  abort: () => undefined,
});

export function renderWithProviders(
  ui: ReactElement,
  options: { upload?: UploadsProviderProps["upload"]; storage?: Storage | null } = {},
) {
  return render(
    <JobsProvider openStream={openFake}>
      <UploadsProvider upload={options.upload ?? neverUpload} storage={options.storage ?? null}>
        {ui}
      </UploadsProvider>
    </JobsProvider>,
  );
}

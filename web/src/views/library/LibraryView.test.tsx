import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { FakeEventSource, jsonResponse, transcription } from "../../test/fakes";
import { renderWithProviders } from "../../test/render";
import { LibraryView } from "./LibraryView";

const listed = [
  transcription({ id: "a", filename: "same.wav", status: "completed", size_bytes: 2048, model: "tiny.en" }),
  transcription({ id: "b", filename: "same.wav", status: "completed", size_bytes: 4 * 1024 * 1024, model: "base" }),
];

beforeEach(() => {
  FakeEventSource.reset();
  window.history.replaceState(null, "", "/library");
});

describe("LibraryView", () => {
  it("counts, sorts, tells same-named files apart and acts on the chosen rows", async () => {
    const calls: { url: string; method: string; body: unknown }[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: RequestInit = {}) => {
        calls.push({ url, method: init.method ?? "GET", body: init.body ? JSON.parse(String(init.body)) : null });
        if (url.startsWith("/api/transcriptions/bulk")) {
          return jsonResponse(200, { results: [{ id: "b", ok: true, status: null, error: null }] });
        }
        if (url.startsWith("/api/models")) return jsonResponse(200, { items: [] });
        return jsonResponse(200, { items: listed, next_cursor: null, total: 2 });
      }),
    );
    renderWithProviders(<LibraryView />);
    expect(await screen.findByText("2 transcriptions")).toBeTruthy();
    expect(screen.getByText("2.0 KB · tiny.en")).toBeTruthy();
    expect(screen.getByText("4.0 MB · base")).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "File" }));
    await waitFor(() => expect(calls.some((call) => call.url.includes("sort=filename&order=asc"))).toBe(true));
    expect(window.location.search).toBe("?sort=filename");

    const rowB = screen.getAllByRole("row").find((row) => row.getAttribute("data-id") === "b")!;
    fireEvent.click(within(rowB).getByRole("checkbox"));
    const bar = screen.getByRole("region", { name: "Selected transcriptions" });
    expect(within(bar).getByText("1 selected")).toBeTruthy();
    expect(within(bar).getByRole("link", { name: "Download zip" }).getAttribute("href")).toBe(
      "/api/transcriptions/export?ids=b&format=srt",
    );
    fireEvent.click(within(bar).getByRole("button", { name: "Delete" }));
    fireEvent.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Delete" }));
    expect(await screen.findByText("1 deleted.")).toBeTruthy();
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({ action: "delete", ids: ["b"] });
  });

  it("says when the count stopped at its limit", async () => {
    window.history.replaceState(null, "", "/library?status=completed");
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        if (url.startsWith("/api/models")) return jsonResponse(200, { items: [] });
        return jsonResponse(200, { items: listed, next_cursor: "c", total: 100, total_exact: false });
      }),
    );
    renderWithProviders(<LibraryView />);
    expect(await screen.findByText("100+ transcriptions match")).toBeTruthy();
  });
});

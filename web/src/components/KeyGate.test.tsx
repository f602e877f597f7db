import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getApiKey, setApiKey } from "../api/auth";
import { requestHeaders } from "../api/client";
import { KeyGate } from "./KeyGate";

const VALID = "alice-key-0123456789";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

function fakeServer(requiredKey: string | null) {
  return vi.fn(async (url: string, init?: RequestInit) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const authorised = requiredKey === null || headers.Authorization === `Bearer ${requiredKey}`;
    if (!authorised) return json(401, { error: { code: "unauthorized", message: "An API key is required." } });
    const session = { owner: requiredKey ? "alice" : null, admin: !requiredKey, auth_required: requiredKey !== null };
    if (url.endsWith("/api/session") && init?.method === "POST") {
      return json(200, { ...session, token: "v1.1.abc.sig", expires_at: Math.floor(Date.now() / 1000) + 900 });
    }
    return json(200, session);
  });
}

describe("KeyGate", () => {
  beforeEach(() => setApiKey(null));
  afterEach(() => vi.unstubAllGlobals());

  it("opens at once when the server needs no key", async () => {
    const fetch = fakeServer(null);
    vi.stubGlobal("fetch", fetch);
    render(<KeyGate>library</KeyGate>);
    expect(await screen.findByText("library")).toBeTruthy();
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(requestHeaders().Authorization).toBeUndefined();
  });

  it("asks for a key, sends it as a Bearer header and opens a session", async () => {
    const fetch = fakeServer(VALID);
    vi.stubGlobal("fetch", fetch);
    render(<KeyGate>library</KeyGate>);
    expect(await screen.findByRole("alert")).toHaveProperty("textContent", "This server needs an API key.");

    fireEvent.change(screen.getByLabelText("API key"), { target: { value: "wrong-key-000000000" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("That API key was not accepted."));

    fireEvent.change(screen.getByLabelText("API key"), { target: { value: ` ${VALID} ` } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("library")).toBeTruthy();
    expect(getApiKey()).toBe(VALID);
    expect(requestHeaders().Authorization).toBe(`Bearer ${VALID}`);
    const post = fetch.mock.calls.find(([, init]) => init?.method === "POST");
    expect(post?.[1]).toMatchObject({ credentials: "include", headers: { Authorization: `Bearer ${VALID}` } });
  });

  it("asks again when a later request is refused", async () => {
    vi.stubGlobal("fetch", fakeServer(null));
    render(<KeyGate>library</KeyGate>);
    await screen.findByText("library");
    window.dispatchEvent(new Event("soundscripter:unauthorized"));
    expect(await screen.findByLabelText("API key")).toBeTruthy();
  });
});

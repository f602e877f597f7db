import { describe, expect, it } from "vitest";
import { snippetFor } from "./snippet";

describe("snippetFor", () => {
  it("cuts the text around the first searched word", () => {
    const text = "Good evening. Here is the weather forecast for the coming days, with rain later.";
    expect(snippetFor(text, "Weather", 10)).toEqual({ before: "…is the ", match: "weather", after: " forecast…" });
  });

  it("skips words that are not in the text and search operators", () => {
    expect(snippetFor("rain all day", '-sun "rain"', 5)).toEqual({ before: "", match: "rain", after: " all…" });
    expect(snippetFor("rain all day", "snow")).toBeNull();
    expect(snippetFor(null, "rain")).toBeNull();
    expect(snippetFor("rain", " ")).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { filtersFromSearch, searchFromFilters } from "./filters";

describe("library filters", () => {
  it("round-trip through the address", () => {
    const filters = { q: "stand up", text: "budget", status: "completed" as const };
    expect(searchFromFilters(filters)).toBe("?q=stand+up&text=budget&status=completed");
    expect(filtersFromSearch(searchFromFilters(filters))).toEqual(filters);
  });

  it("leave out empty filters and unknown statuses", () => {
    expect(searchFromFilters({ q: "", text: "", status: "" })).toBe("");
    expect(filtersFromSearch("?status=bogus&q=a")).toEqual({ q: "a", text: "", status: "" });
  });
});

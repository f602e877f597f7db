import { describe, expect, it } from "vitest";
import { filtersFromSearch, isFiltered, listQuery, NO_FILTERS, searchFromFilters } from "./filters";

describe("library filters", () => {
  it("round-trip through the address", () => {
    const filters = {
      ...NO_FILTERS,
      q: "stand up",
      text: "budget",
      status: "completed" as const,
      model: "base",
      language: "de",
      sort: "filename" as const,
      order: "desc" as const,
    };
    expect(searchFromFilters(filters)).toBe(
      "?q=stand+up&text=budget&status=completed&model=base&language=de&sort=filename&order=desc",
    );
    expect(filtersFromSearch(searchFromFilters(filters))).toEqual(filters);
  });

  it("leave out empty filters, the default order and unknown values", () => {
    expect(searchFromFilters(NO_FILTERS)).toBe("");
    expect(searchFromFilters({ ...NO_FILTERS, sort: "duration" })).toBe("?sort=duration");
    expect(filtersFromSearch("?status=bogus&q=a&sort=nope")).toEqual({ ...NO_FILTERS, q: "a" });
    expect(filtersFromSearch("?sort=status")).toMatchObject({ sort: "status", order: "asc" });
    expect(isFiltered({ ...NO_FILTERS, sort: "status" })).toBe(false);
    expect(isFiltered({ ...NO_FILTERS, model: "base" })).toBe(true);
    expect(listQuery({ ...NO_FILTERS, language: "fr" })).toEqual({ language: "fr", sort: "created_at", order: "desc" });
  });
});

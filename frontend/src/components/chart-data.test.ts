import { describe, expect, it } from "vitest";
import { chartSummary, labelIndexes, stackTotals } from "./chart-data";

describe("labelIndexes", () => {
  it("labels every day of a short range", () => {
    expect(labelIndexes(4)).toEqual([0, 1, 2, 3]);
  });
  it("spreads six labels over a long range, first and last included", () => {
    expect(labelIndexes(30)).toEqual([0, 6, 12, 17, 23, 29]);
  });
});

describe("stackTotals and chartSummary", () => {
  const days = ["2026-03-01", "2026-03-02", "2026-03-03"];

  it("adds the series day by day", () => {
    const series = [
      { name: "a", values: [1, 0, 2] },
      { name: "b", values: [0.5, 1, 0] },
    ];
    expect(stackTotals(series, 3)).toEqual([1.5, 1, 2]);
  });

  it("says the range, the total and the highest day", () => {
    expect(chartSummary("Sessions per day", days, [1, 4, 2], (v) => `${v} sessions`)).toBe(
      "Sessions per day from 2026-03-01 to 2026-03-03: 7 sessions in total, " + "highest 4 sessions on 2026-03-02.",
    );
  });

  it("leaves out a total that does not add up, and says when there is nothing", () => {
    expect(chartSummary("Active users", days, [0, 0, 0], (v) => `${v} users`, false)).toBe(
      "Active users from 2026-03-01 to 2026-03-03: none on any day.",
    );
    expect(chartSummary("Active users", [], [], String)).toBe("Active users: no data.");
  });
});

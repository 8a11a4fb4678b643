import { describe, expect, it } from "vitest";
import {
  addDays,
  apiUrl,
  chartSummary,
  formatDuration,
  formatHours,
  labelIndexes,
  partialDay,
  profileName,
  query,
  shortTime,
  stackTotals,
} from "./data";

describe("query and apiUrl", () => {
  it("keeps non-empty values only, encoded", () => {
    expect(query({ user: "ada lovelace", profile: "", start: " ", limit: 50, offset: 0 })).toBe(
      "?user=ada+lovelace&limit=50&offset=0",
    );
    expect(query({ user: "" })).toBe("");
  });

  it("builds service URLs from the prefix, never a hard-coded path", () => {
    expect(apiUrl("/jh/services/hub-extensions/", "sessions.csv", { reason: "cull" })).toBe(
      "/jh/services/hub-extensions/api/usage/sessions.csv?reason=cull",
    );
    expect(apiUrl("/services/x", "daily")).toBe("/services/x/api/usage/daily");
  });

  it("does not let a value inject another parameter", () => {
    expect(query({ user: "a&all=1" })).toBe("?user=a%26all%3D1");
  });
});

describe("dates and numbers", () => {
  it.each([
    ["2026-03-01", -1, "2026-02-28"],
    ["2024-03-01", -1, "2024-02-29"],
    ["2026-12-31", 1, "2027-01-01"],
    ["2026-05-03", -29, "2026-04-04"],
  ])("addDays(%s, %d) = %s", (day, n, expected) => {
    expect(addDays(day, n)).toBe(expected);
  });

  it("shows times as the server gave them, in the hub's zone", () => {
    expect(shortTime("2026-03-01T10:05:00+01:00")).toBe("2026-03-01 10:05");
    expect(shortTime(null)).toBe("");
  });

  it("formats hours and names the default profile", () => {
    expect(formatHours(0.25)).toBe("0.3");
    expect(formatHours(12.4)).toBe("12");
    expect(profileName("")).toBe("(default)");
    expect(profileName("gpu")).toBe("gpu");
  });
});

describe("partialDay", () => {
  it("finds today in the days and marks it as so far", () => {
    const today = partialDay(["2026-03-01", "2026-03-02"], "2026-03-02");
    expect(today.index).toBe(1);
    expect(today.label("2026-03-02")).toBe("2026-03-02 (today, so far)");
    expect(today.label("2026-03-01")).toBe("2026-03-01");
    expect(today.summary("Sessions.")).toBe("Sessions. Today is so far.");
  });

  it("marks nothing when today is not in the range", () => {
    const past = partialDay(["2026-03-01"], "2026-03-05");
    expect(past.index).toBeUndefined();
    expect(past.summary("Sessions.")).toBe("Sessions.");
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0"],
    [0.001, "<1 min"],
    [0.05, "3 min"],
    [0.99, "59 min"],
    [0.995, "1.0 h"],
    [4.5, "4.5 h"],
    [12.4, "12 h"],
  ])("%d h reads %s", (hours, text) => {
    expect(formatDuration(hours)).toBe(text);
  });
});

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

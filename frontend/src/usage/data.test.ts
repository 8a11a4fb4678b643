import { describe, expect, it } from "vitest";
import { addDays, apiUrl, formatDuration, formatHours, partialDay, profileName, shortTime } from "./data";

describe("apiUrl", () => {
  it("builds service URLs from the prefix, never a hard-coded path", () => {
    expect(apiUrl("/jh/services/hub-extensions/", "sessions.csv", { reason: "cull" })).toBe(
      "/jh/services/hub-extensions/api/usage/sessions.csv?reason=cull",
    );
    expect(apiUrl("/services/x", "daily")).toBe("/services/x/api/usage/daily");
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

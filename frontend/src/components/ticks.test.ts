import { describe, expect, it } from "vitest";
import { countAxis, formatTick, hoursAxis, niceStep, valueAxis, type Axis } from "./ticks";

function readable(axis: Axis, max: number) {
  expect(axis.max).toBeGreaterThanOrEqual(max); // covers the data
  expect(axis.ticks[0]).toBe(0);
  expect(axis.ticks[axis.ticks.length - 1]).toBeCloseTo(axis.max, 9);
  expect(axis.labels).toHaveLength(axis.ticks.length);
  expect(new Set(axis.labels).size).toBe(axis.labels.length); // no repeated label
  expect(axis.ticks.length).toBeGreaterThanOrEqual(2);
  expect(axis.ticks.length).toBeLessThanOrEqual(7);
}

describe("hoursAxis", () => {
  it("is 0 to 1 h when there is nothing", () => {
    expect(hoursAxis(0)).toEqual({ max: 1, ticks: [0, 1], labels: ["0", "1 h"], unit: "h" });
    expect(hoursAxis(Number.NaN).labels).toEqual(["0", "1 h"]);
  });

  it("counts seconds of use as a minute", () => {
    const axis = hoursAxis(0.001); // 3.6 s
    expect(axis.labels).toEqual(["0", "1 min"]);
    expect(axis.max).toBeCloseTo(1 / 60);
  });

  it.each([
    [3 / 60, ["0", "1 min", "2 min", "3 min"]],
    [0.2, ["0", "5 min", "10 min", "15 min"]],
    [0.5, ["0", "10 min", "20 min", "30 min"]],
    [1.9, ["0", "30 min", "60 min", "90 min", "120 min"]],
  ])("is in minutes under two hours (%d h)", (max, labels) => {
    const axis = hoursAxis(max);
    expect(axis.unit).toBe("min");
    expect(axis.labels).toEqual(labels);
    readable(axis, max);
  });

  it.each([
    [2, ["0", "0.5 h", "1 h", "1.5 h", "2 h"]],
    [7, ["0", "2 h", "4 h", "6 h", "8 h"]],
    [23, ["0", "5 h", "10 h", "15 h", "20 h", "25 h"]],
    [1234, ["0", "500 h", "1k h", "1.5k h"]],
    [12_345, ["0", "5k h", "10k h", "15k h"]],
  ])("is in hours from two hours up (%d h)", (max, labels) => {
    const axis = hoursAxis(max);
    expect(axis.unit).toBe("h");
    expect(axis.labels).toEqual(labels);
    readable(axis, max);
  });

  it("never repeats a label, from seconds to years of use", () => {
    for (let max = 0.0001; max < 1e6; max *= 1.37) readable(hoursAxis(max), max);
  });
});

describe("countAxis", () => {
  it.each([
    [0, ["0", "1"]],
    [1, ["0", "1"]],
    [3, ["0", "1", "2", "3"]],
    [7, ["0", "2", "4", "6", "8"]],
    [101, ["0", "50", "100", "150"]],
    [4321, ["0", "1k", "2k", "3k", "4k", "5k"]],
    [98_765, ["0", "20k", "40k", "60k", "80k", "100k"]],
  ])("has whole-number ticks (max %d)", (max, labels) => {
    const axis = countAxis(max);
    expect(axis.labels).toEqual(labels);
    expect(axis.ticks.every(Number.isInteger)).toBe(true);
    readable(axis, max);
  });

  it("never repeats a label", () => {
    for (let max = 0.5; max < 1e7; max *= 1.29) readable(countAxis(max), max);
  });
});

describe("valueAxis", () => {
  it.each([
    [0, 1, [0, 1]],
    [1, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]],
    [7, 8, [0, 2, 4, 6, 8]],
    [23, 25, [0, 5, 10, 15, 20, 25]],
    [101, 150, [0, 50, 100, 150]],
  ])("max %d -> axis to %d", (max, top, ticks) => {
    const axis = valueAxis(max);
    expect({ max: axis.max, ticks: axis.ticks }).toEqual({ max: top, ticks });
    readable(axis, max);
  });

  it("writes labels with the format it is given", () => {
    const labels = valueAxis(0.03, (v) => v.toFixed(2)).labels;
    expect(labels).toEqual(["0.00", "0.01", "0.02", "0.03"]);
  });
});

describe("niceStep and formatTick", () => {
  it("rounds a step up to 1, 2 or 5 x 10^k", () => {
    expect(niceStep(0.6)).toBe(1);
    expect(niceStep(0.03)).toBeCloseTo(0.05);
    expect(niceStep(2469)).toBe(5000);
  });

  it("gives a label as many decimals as its step needs", () => {
    expect(formatTick(0.5, 0.5)).toBe("0.5");
    expect(formatTick(1, 0.5)).toBe("1");
    expect(formatTick(0.04, 0.02)).toBe("0.04");
    expect(formatTick(15_000, 5000)).toBe("15k");
  });
});
